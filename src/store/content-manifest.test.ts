import { join } from 'node:path'
import { expect, test } from 'vitest'
import { pseudoRandomBytes, tempDir } from '../test-helpers/index.ts'
import { sha256Digest } from './cid.ts'
import { readManifest } from './content.ts'
import { putContentManifest } from './content-manifest.ts'
import { createDigestList } from './digest-list.ts'
import { openStore } from './store.ts'

const dir = tempDir('mlvc-content-manifest')

function list(count: number, seed: number, changedAt?: number) {
  const chunks = createDigestList()
  for (let i = 0; i < count; i++) {
    const digest = sha256Digest(pseudoRandomBytes(8, i === changedAt ? seed + 1_000_000 : i + 1))
    chunks.push(digest, 70_000, i * 70_000)
  }
  return chunks
}

test('a long chunk list is split into content-defined parts: an edit rewrites only those around it', async () => {
  const store = await openStore(join(dir, 'store'), { create: true })
  const size = 10_000 * 70_000
  const id = putContentManifest(store, size, 'a'.repeat(64), list(10_000, 1))
  const manifest = await readManifest(store, id)
  if (manifest.type !== 'file') throw new Error('expected a file manifest')
  expect(manifest.parts.length).toBeGreaterThan(10)
  expect(manifest.parts.reduce((sum, p) => sum + ('size' in p ? p.size : 0), 0)).toBe(size)
  const before = store.writer().bytesWritten
  putContentManifest(store, size, 'b'.repeat(64), list(10_000, 1, 5_000))
  const added = store.writer().bytesWritten - before
  expect(added).toBeLessThan(60_000)
  const flat = putContentManifest(store, 100 * 70_000, 'c'.repeat(64), list(100, 2))
  expect((await readManifest(store, flat)).type).toBe('blob')
  await store.close()
})
