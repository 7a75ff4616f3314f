import { mkdirSync, readSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../test-helpers/index.ts'
import {
  listDirIfExists,
  openForReading,
  pathExists,
  readTextIfExists,
  withFileForReading,
} from './read.ts'

const dir = tempDir('mlvc-read')

describe('reads where absence is an answer', () => {
  it('readTextIfExists: the text, undefined when absent, an error naming the file otherwise', async () => {
    writeFileSync(join(dir, 'a.txt'), 'text')
    mkdirSync(join(dir, 'folder'))
    expect(await readTextIfExists(join(dir, 'a.txt'))).toBe('text')
    expect(await readTextIfExists(join(dir, 'absent.txt'))).toBeUndefined()
    await expect(readTextIfExists(join(dir, 'folder'), 'reading config')).rejects.toMatchObject({
      code: 'USAGE',
      message: `reading config ${join(dir, 'folder')}: is a directory`,
    })
  })

  it('listDirIfExists: the names, none when the folder is absent, an error for a file', async () => {
    mkdirSync(join(dir, 'list'))
    writeFileSync(join(dir, 'list', 'x'), '')
    expect(await listDirIfExists(join(dir, 'list'))).toEqual(['x'])
    expect(await listDirIfExists(join(dir, 'no-such-folder'))).toEqual([])
    await expect(listDirIfExists(join(dir, 'list', 'x'))).rejects.toMatchObject({
      message: expect.stringContaining(`listing ${join(dir, 'list', 'x')}`),
    })
  })

  it('pathExists: files, folders and dangling links exist; absent paths do not', async () => {
    symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling'))
    expect(await pathExists(join(dir, 'a.txt'))).toBe(true)
    expect(await pathExists(join(dir, 'folder'))).toBe(true)
    expect(await pathExists(join(dir, 'dangling'))).toBe(true)
    expect(await pathExists(join(dir, 'nowhere'))).toBe(false)
  })
})

describe('openForReading', () => {
  it('gives a descriptor and the size; withFileForReading closes it after the task', async () => {
    writeFileSync(join(dir, 'b.bin'), 'hello')
    const kept = await withFileForReading(join(dir, 'b.bin'), async ({ fd, size }) => {
      const buf = Buffer.alloc(size)
      readSync(fd, buf, 0, size, 0)
      expect(buf.toString()).toBe('hello')
      return fd
    })
    expect(() => readSync(kept, Buffer.alloc(1), 0, 1, 0)).toThrow(/EBADF/)
  })

  it('a folder is USAGE naming it; an absent file NOT_FOUND', () => {
    expect(() => openForReading(join(dir, 'folder'))).toThrow(
      expect.objectContaining({ code: 'USAGE', path: join(dir, 'folder') }),
    )
    expect(() => openForReading(join(dir, 'absent.bin'))).toThrow(
      expect.objectContaining({ code: 'NOT_FOUND' }),
    )
  })
})
