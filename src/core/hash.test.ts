import { createHash } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { pseudoRandomBytes, tempDir } from '../test-helpers/index.ts'
import { hashFile, hashFileSync, sha256Hex } from './hash.ts'

const dir = tempDir('mlvc-hash')
const expected = (data: Uint8Array) => createHash('sha256').update(data).digest('hex')

describe('file hashing', () => {
  // Empty, smaller than a block, exactly one 4 MiB block, and more than one block.
  const sizes = [0, 1000, 4 * 1024 * 1024, 9 * 1024 * 1024 + 7]

  it.each(sizes)(
    'hashFile and hashFileSync give the sha-256 and size of %i bytes',
    async (size) => {
      const data = pseudoRandomBytes(size, size + 1)
      const path = join(dir, `f${size}`)
      writeFileSync(path, data)
      const want = { sha256: expected(data), size }
      expect(await hashFile(path)).toEqual(want)
      expect(hashFileSync(path)).toEqual(want)
    },
  )

  it('a folder is USAGE and an absent file NOT_FOUND, both naming the path', async () => {
    mkdirSync(join(dir, 'folder'))
    for (const path of [join(dir, 'folder'), join(dir, 'absent')]) {
      const code = path.endsWith('folder') ? 'USAGE' : 'NOT_FOUND'
      const failure = { code, message: expect.stringContaining(path) }
      await expect(hashFile(path)).rejects.toMatchObject(failure)
      expect(() => hashFileSync(path)).toThrow(expect.objectContaining(failure))
    }
  })

  it('sha256Hex hashes bytes and the UTF-8 of strings alike', () => {
    expect(sha256Hex('héllo')).toBe(expected(Buffer.from('héllo', 'utf8')))
    expect(sha256Hex(new Uint8Array([1, 2, 3]))).toBe(expected(new Uint8Array([1, 2, 3])))
  })
})
