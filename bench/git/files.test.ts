import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { checkContent, sha256File } from './content.ts'
import { MiB, writeSmallFiles } from './files.ts'

const dir = mkdtempSync(join(tmpdir(), 'mlvc-bench-files-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const source = join(dir, 'source.bin')
const bytes = Buffer.alloc(3 * MiB + 5)
for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + (i >> 20)) & 0xff
writeFileSync(source, bytes)

describe('small files from one input', () => {
  it('are consecutive 1 MiB slices, with their hashes', () => {
    const out = join(dir, 'repo')
    const files = writeSmallFiles(source, out, 3)
    expect(files.map((f) => f.name)).toEqual([
      'files/f0000.bin',
      'files/f0001.bin',
      'files/f0002.bin',
    ])
    for (const [i, f] of files.entries()) {
      const data = readFileSync(join(out, f.name))
      expect(data.equals(bytes.subarray(i * MiB, (i + 1) * MiB))).toBe(true)
      expect(f.sha256).toBe(createHash('sha256').update(data).digest('hex'))
      expect(f.size).toBe(MiB)
    }
  })

  it('can be of another size', () => {
    const files = writeSmallFiles(source, join(dir, 'small'), 5, 100 * 1024)
    expect(files.map((f) => f.size)).toEqual([102400, 102400, 102400, 102400, 102400])
    const last = readFileSync(join(dir, 'small', files[4]?.name as string))
    expect(last.equals(bytes.subarray(4 * 102400, 5 * 102400))).toBe(true)
  })

  it('refuse an input too short for the count', () => {
    expect(() => writeSmallFiles(source, join(dir, 'short'), 4)).toThrow(/too short/)
  })
})

describe('content checks', () => {
  it('accept the same bytes and reject a different size or content', async () => {
    const expected = { size: bytes.length, sha256: sha256File(source) }
    await expect(checkContent(source, expected, 'test')).resolves.toBeUndefined()
    await expect(checkContent(source, { ...expected, size: 1 }, 'test')).rejects.toThrow(/bytes/)
    const other = { ...expected, sha256: '0'.repeat(64) }
    await expect(checkContent(source, other, 'test')).rejects.toThrow(/content/)
  })
})
