import { readdirSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { type FileManifest, openStore, readManifest, type Store } from '../store/index.ts'
import { damageFile, onlyPack, pseudoRandomBytes, tempDir } from '../test-helpers/index.ts'
import { ingestCheckpoint } from './ingest.ts'
import { openStoredFile } from './stored-source.ts'
import { f32Model, randomF32 } from './test-helpers/index.ts'

const dir = tempDir('mlvc-stored')
let n = 0

/** A 2.4 MB checkpoint of a few tensors, stored: the file's bytes and its manifest. */
async function stored(store: Store): Promise<{ bytes: Buffer; manifest: FileManifest }> {
  const bytes = f32Model({ a: randomF32(300_000, 1), b: randomF32(7, 2), c: randomF32(300_001, 3) })
  const path = join(dir, `in-${n++}.safetensors`)
  writeFileSync(path, bytes)
  const result = await ingestCheckpoint(store, path, undefined)
  await store.commit()
  return { bytes, manifest: (await readManifest(store, result.id)) as FileManifest }
}

describe('a stored file read at offsets', () => {
  test('reads anywhere, concurrently, across windows and parts, equal the file', async () => {
    const store = await openStore(join(dir, `store-${n++}`), { create: true })
    const { bytes, manifest } = await stored(store)
    // Windows of ~100 KB: many of them, recycled while other reads still copy from theirs.
    const file = await openStoredFile(store, manifest, 'm', { windowBytes: 100_000 })
    const random = pseudoRandomBytes(4 * 200, 7)
    const reads = Array.from({ length: 200 }, (_, i) => {
      const offset = random.readUInt32LE(i * 4) % bytes.length
      const length = Math.min(bytes.length - offset, (random.readUInt16LE(i * 4) * 7) % 400_000)
      return { offset, length }
    })
    reads.push({ offset: 0, length: bytes.length }, { offset: bytes.length, length: 0 })
    const results = await Promise.all(reads.map((r) => file.read(r.offset, r.length)))
    for (const [i, r] of reads.entries()) {
      expect(
        Buffer.from(results[i] as Uint8Array).equals(bytes.subarray(r.offset, r.offset + r.length)),
      ).toBe(true)
    }
    // Front to back in small pieces, as tensors are read.
    const target = Buffer.alloc(bytes.length)
    for (let at = 0; at < bytes.length; at += 65_536)
      await file.readInto(at, target.subarray(at, Math.min(bytes.length, at + 65_536)))
    expect(target.equals(bytes)).toBe(true)
    await expect(file.read(bytes.length - 1, 2)).rejects.toThrow(/leaves the file/)
    await expect(file.read(0, -1)).rejects.toThrow(/leaves the file/)
    await file.close()
    await store.close()
  })

  test('parts stored as deltas: streamed front to back, rebuilt once for reads behind', async () => {
    const store = await openStore(join(dir, `store-${n++}`), { create: true })
    const { bytes: before, manifest: first } = await stored(store)
    // A fine-tune that nudges a few elements of every tensor: each goes in as a delta.
    const bytes = Buffer.from(before)
    for (let at = 10_000; at < bytes.length; at += 50_000) bytes[at] = (bytes[at] as number) ^ 0x40
    const path = join(dir, `in-${n++}.safetensors`)
    writeFileSync(path, bytes)
    const firstId = (await ingestCheckpoint(store, join(dir, `in-${n - 2}.safetensors`), undefined))
      .id
    const result = await ingestCheckpoint(store, path, undefined, { previous: firstId })
    expect(result.deltas).toBeGreaterThan(0)
    await store.commit()
    const manifest = (await readManifest(store, result.id)) as FileManifest
    expect(first.size).toBe(manifest.size)
    const file = await openStoredFile(store, manifest, 'm')
    const target = Buffer.alloc(bytes.length)
    for (let at = 0; at < bytes.length; at += 100_000)
      await file.readInto(at, target.subarray(at, Math.min(bytes.length, at + 100_000)))
    expect(target.equals(bytes)).toBe(true)
    expect(readdirSync(store.layout.tmp)).toEqual([])
    // A second pass goes back: the delta parts are rebuilt into files, read from there.
    expect(Buffer.from(await file.read(1000, 300_000)).equals(bytes.subarray(1000, 301_000))).toBe(
      true,
    )
    const again = await Promise.all([0, 500_000, 1_200_000].map((at) => file.read(at, 400_000)))
    for (const [i, at] of [0, 500_000, 1_200_000].entries())
      expect(Buffer.from(again[i] as Uint8Array).equals(bytes.subarray(at, at + 400_000))).toBe(
        true,
      )
    expect(readdirSync(store.layout.tmp).length).toBeGreaterThan(0)
    await file.close()
    expect(readdirSync(store.layout.tmp)).toEqual([])
    await store.close()
  })

  test('a damaged or truncated pack is an error naming it, not wrong bytes', async () => {
    const root = join(dir, `store-${n++}`)
    const store = await openStore(root, { create: true })
    const { manifest } = await stored(store)
    await store.close()
    const pack = onlyPack(root)
    const original = damageFile(pack, 1_000_000)
    let reopened = await openStore(root)
    const file = await openStoredFile(reopened, manifest, 'm', { windowBytes: 100_000 })
    await expect(file.read(0, manifest.size)).rejects.toThrow(
      /chunk bafkrei\w+ at offset \d+ of pack pack-[\w-]+ is damaged/,
    )
    await reopened.close()
    writeFileSync(pack, original)
    truncateSync(pack, 1_500_000)
    reopened = await openStore(root)
    const opened = reopened
    await expect(
      (async () => (await openStoredFile(opened, manifest, 'm')).read(0, manifest.size))(),
    ).rejects.toThrow(/pack pack-[\w-]+ is truncated/)
    await reopened.close()
  })
})
