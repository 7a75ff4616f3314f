import { join } from 'node:path'
import { expect, test } from 'vitest'
import { pseudoRandomBytes, tempDir } from '../test-helpers/index.ts'
import { formatId, sha256Digest } from './cid.ts'
import { readChunk } from './content.ts'
import { fsckStore } from './fsck.ts'
import { openStore } from './store.ts'

const dir = tempDir('mlvc-pack-writer')

test('small objects gathered before writing: readable at once, after commit and from a fresh open', async () => {
  const root = join(dir, 'store')
  const store = await openStore(root, { create: true })
  // Small ones (buffered) and large ones (written at once) interleaved, as a checkpoint's chunks
  // and part manifests are; more small ones than fit in one buffer.
  const objects = Array.from({ length: 30_000 }, (_, i) =>
    pseudoRandomBytes(i % 1000 === 0 ? 100_000 : 20 + (i % 50), i),
  )
  const ids = objects.map((data) => store.putObject('chunk', data))
  // Read back before commit: through the store, and by a worker reading the pack's descriptor.
  expect(await store.readObject(ids[12_345] as string)).toEqual(objects[12_345])
  expect(readChunk(store, [ids[29_999] as string, (objects[29_999] as Buffer).length])).toEqual(
    objects[29_999],
  )
  await store.close()
  const again = await openStore(root)
  for (const i of [0, 1, 999, 1000, 17_777, 29_999])
    expect(await again.readObject(ids[i] as string)).toEqual(objects[i])
  const report = await fsckStore(again)
  expect(report.issues).toEqual([])
  expect(report.objects).toBe(new Set(ids).size)
  expect(ids[0]).toBe(formatId('chunk', sha256Digest(objects[0] as Buffer)))
  await again.close()
})
