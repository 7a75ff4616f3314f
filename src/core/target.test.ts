import { spawnSync } from 'node:child_process'
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { tempDir } from '../test-helpers/index.ts'
import { isMlvcError } from './errors.ts'
import { writeFileAtomic } from './fs.ts'
import { checkNoLinkedParents, checkWriteTarget, placeFile } from './target.ts'

const root = tempDir('mlvc-target')
let n = 0

function folder(): string {
  const dir = join(root, `t${n++}`)
  mkdirSync(dir)
  return dir
}

function codeOf(fn: () => void): string | undefined {
  try {
    fn()
  } catch (err) {
    if (isMlvcError(err)) return err.code
    throw err
  }
  return undefined
}

describe('write targets', () => {
  test('only a regular file may be replaced; links, FIFOs and folders never', () => {
    const dir = folder()
    writeFileSync(join(dir, 'file'), 'old')
    symlinkSync(join(dir, 'missing'), join(dir, 'dangling'))
    symlinkSync(join(dir, 'file'), join(dir, 'link'))
    mkdirSync(join(dir, 'folder'))
    expect(spawnSync('mkfifo', [join(dir, 'fifo')]).status).toBe(0)
    expect(codeOf(() => checkWriteTarget(join(dir, 'new'), 'none'))).toBeUndefined()
    expect(codeOf(() => checkWriteTarget(join(dir, 'file'), 'file'))).toBeUndefined()
    expect(() => checkWriteTarget(join(dir, 'file'), 'none')).toThrow(/file already exists/)
    for (const [name, kind] of [
      ['dangling', 'a symbolic link'],
      ['link', 'a symbolic link'],
      ['folder', 'a directory'],
      ['fifo', 'a FIFO'],
    ]) {
      for (const rule of ['file', 'none'] as const) {
        expect(() => checkWriteTarget(join(dir, name as string), rule)).toThrow(
          `${join(dir, name as string)} is ${kind}`,
        )
      }
    }
    expect(codeOf(() => checkWriteTarget(join(dir, 'fifo'), 'any'))).toBeUndefined()
  })

  test("placing under 'none' never replaces what appeared meanwhile, a dangling link included", () => {
    const dir = folder()
    writeFileSync(join(dir, 'tmp'), 'new')
    symlinkSync(join(dir, 'missing'), join(dir, 'out'))
    expect(() => placeFile(join(dir, 'tmp'), join(dir, 'out'), 'none')).toThrow(/symbolic link/)
    expect(readlinkSync(join(dir, 'out'))).toBe(join(dir, 'missing'))
    expect(existsSync(join(dir, 'missing'))).toBe(false)
    placeFile(join(dir, 'tmp'), join(dir, 'fresh'), 'none')
    expect(readFileSync(join(dir, 'fresh'), 'utf8')).toBe('new')
    expect(existsSync(join(dir, 'tmp'))).toBe(false)
  })

  test("writeFileAtomic with replace 'file' keeps a symbolic link and what it points to", async () => {
    const dir = folder()
    writeFileSync(join(dir, 'target'), 'keep')
    symlinkSync(join(dir, 'target'), join(dir, 'out.svg'))
    await expect(
      writeFileAtomic(join(dir, 'out.svg'), '<svg/>', { replace: 'file' }),
    ).rejects.toThrow(/out\.svg is a symbolic link/)
    expect(lstatSync(join(dir, 'out.svg')).isSymbolicLink()).toBe(true)
    expect(readFileSync(join(dir, 'target'), 'utf8')).toBe('keep')
  })

  test('a folder on the way that is a symbolic link is refused', () => {
    const dir = folder()
    mkdirSync(join(dir, 'real'))
    symlinkSync(root, join(dir, 'models'))
    expect(codeOf(() => checkNoLinkedParents(dir, 'real/model.pt'))).toBeUndefined()
    expect(codeOf(() => checkNoLinkedParents(dir, 'models/model.pt'))).toBe('UNSAFE_PATH')
    expect(codeOf(() => checkNoLinkedParents(dir, 'models'))).toBeUndefined()
  })
})
