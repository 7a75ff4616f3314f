import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { buildSafetensors } from '../formats/test-helpers/builders.ts'
import { fsckStore, materialize, openStore } from '../store/index.ts'
import { normalValues, pseudoRandomBytes, tempDir } from '../test-helpers/index.ts'
import { tensorDeltas } from './deltas.ts'
import { ingestCheckpoint } from './ingest.ts'

const dir = tempDir('mlvc-ckpt-encodings')

/** Float32 weights like a trained layer's: normal, std 0.02. */
function normalF32(count: number, seed: number): Float32Array {
  return Float32Array.from(normalValues(count, seed))
}

/** bfloat16 weights: the high halves of float32 ones. */
function normalBF16(count: number, seed: number): Buffer {
  const words = new Uint16Array(normalF32(count, seed).buffer)
  return Buffer.from(Uint16Array.from({ length: count }, (_, i) => words[2 * i + 1] ?? 0).buffer)
}

function model(seed: number): Buffer {
  return buildSafetensors([
    { name: 'embed', dtype: 'BF16', shape: [1000, 1000], data: normalBF16(1_000_000, seed) },
    { name: 'ids', dtype: 'I64', shape: [1000], data: pseudoRandomBytes(8000, seed) },
    {
      name: 'proj',
      dtype: 'F32',
      shape: [500, 1001],
      data: Buffer.from(normalF32(500_500, seed + 1).buffer),
    },
    { name: 'norm', dtype: 'F32', shape: [4096], data: Buffer.alloc(4 * 4096) },
  ])
}

test('float tensors are stored byte-grouped, new and as changed tensors, and read back exactly', async () => {
  const store = await openStore(join(dir, 'store'), { create: true, compress: true })
  const v1 = model(1)
  // v2 changes every element of `proj` (no delta pays): its new chunks are encoded on the
  // store workers after the delta decision, the others were encoded as the file was cut.
  const v2 = Buffer.from(v1)
  const proj = model(5).subarray(v1.length - 4 * 4096 - 2_002_000, v1.length - 4 * 4096)
  proj.copy(v2, v1.length - 4 * 4096 - 2_002_000)
  const paths = [join(dir, 'v1.safetensors'), join(dir, 'v2.safetensors')]
  writeFileSync(paths[0] ?? '', v1)
  writeFileSync(paths[1] ?? '', v2)
  // Chunked on the workers (an inline limit below the file's size).
  const first = await ingestCheckpoint(store, paths[0] ?? '', undefined, { inlineLimit: 1 << 20 })
  await store.commit()
  // BF16 at about 67%, F32 at about 83%, zeros at nearly nothing.
  expect(first.stored).toBeLessThan(0.8 * v1.length)
  const second = await ingestCheckpoint(store, paths[1] ?? '', undefined, {
    previous: first.id,
    inlineLimit: 1 << 20,
  })
  await store.commit()
  expect(second.deltas).toBe(0)
  expect(second.stored).toBeGreaterThan(0)
  expect(second.stored).toBeLessThan(0.9 * 2_002_000)
  for (const [id, bytes] of [
    [first.id, v1],
    [second.id, v2],
  ] as const) {
    const out = join(dir, `out-${id.slice(-8)}`)
    await materialize(store, id, out, { deltas: tensorDeltas() })
    expect(readFileSync(out).equals(bytes)).toBe(true)
  }
  const report = await fsckStore(store)
  expect(report.issues).toEqual([])
  expect(report.bytes).toBeLessThan(0.8 * report.size)
  await store.close()
})

test('a store that stores data raw still deflates a checkpoint’s deltas', async () => {
  const store = await openStore(join(dir, 'raw-store'), { create: true })
  const v1 = model(7)
  // v2 zeroes every 50th value of `embed` (BF16, from byte 8 + header on): a sparse change that a
  // delta stores, with a patch that deflates well.
  const v2 = Buffer.from(v1)
  const start = v1.length - 4 * 4096 - 2_002_000 - 8000 - 2_000_000
  for (let i = 0; i < 1_000_000; i += 50) v2.writeUInt16LE(0, start + 2 * i)
  const paths = [join(dir, 'raw-v1.safetensors'), join(dir, 'raw-v2.safetensors')]
  writeFileSync(paths[0] ?? '', v1)
  writeFileSync(paths[1] ?? '', v2)
  const first = await ingestCheckpoint(store, paths[0] ?? '', undefined)
  await store.commit()
  const before = await fsckStore(store)
  expect(before.bytes).toBe(before.size)
  const second = await ingestCheckpoint(store, paths[1] ?? '', undefined, { previous: first.id })
  await store.commit()
  expect(second.deltas).toBe(1)
  const after = await fsckStore(store)
  expect(after.issues).toEqual([])
  // Only the delta's patch is encoded: what the store saved is less than the patch's size.
  expect(after.size - after.bytes).toBeGreaterThan(0)
  const out = join(dir, 'raw-out')
  await materialize(store, second.id, out, { deltas: tensorDeltas() })
  expect(readFileSync(out).equals(v2)).toBe(true)
  await store.close()
})
