import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../test-helpers/index.ts'
import {
  ensureDir,
  uniqueName,
  writeAllSync,
  writeFileAtomic,
  writeFileAtomicSync,
  writevAllSync,
} from './fs.ts'

describe('atomic writes', () => {
  const dir = tempDir('mlvc-fs')

  it('writeFileAtomic replaces a file whole and leaves no temporary file', async () => {
    const path = join(dir, 'a.txt')
    writeFileSync(path, 'old')
    await writeFileAtomic(path, 'new content')
    await writeFileAtomic(path, Buffer.from('newer'), { fsync: false })
    expect(readFileSync(path, 'utf8')).toBe('newer')
    expect(readdirSync(dir)).toEqual(['a.txt'])
  })

  it('writeFileAtomic into a missing folder fails with NOT_FOUND naming the path, leaving nothing', async () => {
    const path = join(dir, 'missing', 'b.txt')
    await expect(writeFileAtomic(path, 'x')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining(path),
    })
  })

  it('writeFileAtomic onto a folder fails and keeps the folder and no temporary file', async () => {
    const target = join(dir, 'sub')
    mkdirSync(target)
    await expect(writeFileAtomic(target, 'x')).rejects.toMatchObject({ code: 'USAGE' })
    expect(readdirSync(dir).filter((n) => n.startsWith('.'))).toEqual([])
  })

  it('writeFileAtomicSync writes the whole content', () => {
    const path = join(dir, 'c.txt')
    writeFileAtomicSync(path, 'sync content')
    expect(readFileSync(path, 'utf8')).toBe('sync content')
  })

  it('writeAllSync and writevAllSync write every byte at the position', async () => {
    const path = join(dir, 'd.bin')
    const fd = openSync(path, 'w+')
    try {
      writeAllSync(fd, Buffer.from('hello'), 0)
      expect(writevAllSync(fd, [Buffer.from(' '), Buffer.from('world')], 5)).toBe(6)
    } finally {
      closeSync(fd)
    }
    expect(readFileSync(path, 'utf8')).toBe('hello world')
  })

  it('uniqueName gives distinct names with the prefix, pid and thread', async () => {
    const names = new Set(Array.from({ length: 1000 }, () => uniqueName('pack')))
    expect(names.size).toBe(1000)
    expect([...names][0]).toMatch(new RegExp(`^pack-${process.pid}-0-[0-9a-f]{12}[0-9a-z]+$`))
    await ensureDir(join(dir, 'x', 'y'))
    await ensureDir(join(dir, 'x', 'y'))
    expect(readdirSync(join(dir, 'x'))).toEqual(['y'])
  })
})
