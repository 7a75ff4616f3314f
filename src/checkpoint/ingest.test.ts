import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { describe, expect, test } from 'vitest'
import { buildNpy, buildZip } from '../formats/test-helpers/builders.ts'
import { materialize, openStore, type Store, storeSize } from '../store/index.ts'
import { pseudoRandomBytes, ROOT, tempDir } from '../test-helpers/index.ts'
import { tensorDeltas } from './deltas.ts'
import { ingestCheckpoint } from './ingest.ts'
import { checkpointStubLines, parseStubTensors } from './stub-lines.ts'
import { f32Model, randomF32 } from './test-helpers/index.ts'

const dir = tempDir('mlvc-ckpt')
let n = 0
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const pieces: Uint8Array[] = []
  for await (const piece of source) pieces.push(piece)
  return Buffer.concat(pieces)
}

async function store(): Promise<Store> {
  return openStore(join(dir, `store-${n++}`), { create: true })
}

async function roundTrip(s: Store, id: string, expected: Buffer): Promise<void> {
  const out = join(dir, `out-${n++}`)
  await materialize(s, id, out, { deltas: tensorDeltas() })
  expect(sha(readFileSync(out))).toBe(sha(expected))
}

describe('checkpoints stored tensor by tensor', () => {
  test('a safetensors file: byte-identical, one part per tensor, statistics in the stub', async () => {
    const s = await store()
    const tensors = {
      'layer.0.weight': randomF32(300_000, 1),
      'layer.0.bias': randomF32(1000, 2),
      'layer.1.weight': randomF32(300_000, 3),
    }
    const file = join(dir, 'm.safetensors')
    const bytes = f32Model(tensors)
    writeFileSync(file, bytes)
    const result = await ingestCheckpoint(s, file, undefined)
    await s.commit()
    expect(result.meta?.format).toBe('safetensors')
    expect(result.meta?.tensors.map((t) => t.name)).toEqual(Object.keys(tensors))
    const bias = result.meta?.tensors.find((t) => t.name === 'layer.0.bias')
    expect(bias?.stats?.count).toBe(1000)
    const lines = checkpointStubLines(result.meta as never)
    expect(lines[0]).toBe('format: safetensors')
    expect(lines.find((l) => l.includes('layer.0.bias'))).toMatch(
      /^tensor: layer\.0\.bias F32 \[1000\] bagaaiera\w+ mean=\S+ std=\S+ min=\S+ max=\S+ l2=\S+$/,
    )
    expect(parseStubTensors(lines).tensors).toHaveLength(3)
    await roundTrip(s, result.id, bytes)
    await s.close()
  })

  test('an unchanged tensor costs nothing wherever it moves; a sparse change is stored as a delta', async () => {
    const s = await store()
    const big = randomF32(1_000_000, 10)
    const v1 = f32Model({ a: big, b: randomF32(500_000, 11) })
    const p1 = join(dir, 'v1.safetensors')
    writeFileSync(p1, v1)
    const first = await ingestCheckpoint(s, p1, undefined)
    await s.commit()
    const sizeAfterV1 = await storeSize(s)
    // v2: every 1000th element of `a` nudged (0.1% of elements, spread over every chunk).
    const a2 = Buffer.from(big)
    for (let i = 0; i < 1_000_000; i += 1000) a2.writeFloatLE(a2.readFloatLE(i * 4) + 1e-3, i * 4)
    const v2 = f32Model({ a: a2, b: randomF32(500_000, 11), c: randomF32(10, 12) })
    const p2 = join(dir, 'v2.safetensors')
    writeFileSync(p2, v2)
    const second = await ingestCheckpoint(s, p2, undefined, { previous: first.id })
    await s.commit()
    expect(second.deltas).toBe(1)
    const growth = (await storeSize(s)) - sizeAfterV1
    expect(growth).toBeLessThan(0.02 * v2.length)
    const a = (r: typeof second) => r.meta?.tensors.find((t) => t.name === 'a')
    const b = (r: typeof second) => r.meta?.tensors.find((t) => t.name === 'b')
    expect(b(second)?.content).toBe(b(first)?.content)
    expect(a(second)?.content).not.toBe(a(first)?.content)
    await roundTrip(s, second.id, v2)
    await roundTrip(s, first.id, v1)
    await s.close()
  })

  test('delta chains are bounded and read back exactly at every depth', async () => {
    const s = await store()
    let data = randomF32(400_000, 20)
    let previous: string | undefined
    const versions: Array<[string, Buffer]> = []
    for (let v = 0; v < 7; v++) {
      data = Buffer.from(data)
      for (let i = v; i < 400_000; i += 997) data.writeFloatLE(v, i * 4)
      const bytes = f32Model({ w: data })
      const path = join(dir, `chain-${v}.safetensors`)
      writeFileSync(path, bytes)
      const r = await ingestCheckpoint(s, path, undefined, { previous, maxDeltaDepth: 3 })
      previous = r.id
      versions.push([r.id, bytes])
    }
    await s.commit()
    for (const [id, bytes] of versions) await roundTrip(s, id, bytes)
    await s.close()
  })

  test('not a checkpoint, or one that does not parse: stored as a blob, with a note for the latter', async () => {
    const s = await store()
    const plain = join(dir, 'plain.bin')
    writeFileSync(plain, pseudoRandomBytes(100_000, 30))
    const r1 = await ingestCheckpoint(s, plain, undefined)
    expect(r1.meta).toBeUndefined()
    expect(r1.note).toBeUndefined()
    const broken = join(dir, 'broken.safetensors')
    const bytes = f32Model({ a: randomF32(100, 31) })
    bytes.writeUInt32LE(0xffff_fff0, 0)
    writeFileSync(broken, bytes)
    const r2 = await ingestCheckpoint(s, broken, undefined)
    expect(r2.meta).toBeUndefined()
    expect(r2.note).toMatch(/broken\.safetensors/)
    await s.commit()
    await roundTrip(s, r2.id, bytes)
    await s.close()
  })

  test('an npz member with a wrong CRC-32 (NumPy refuses it) gets no statistics: a blob with a note', async () => {
    const s = await store()
    const data = Buffer.from(new Float32Array([1, 2, 3]).buffer)
    const member = buildNpy({ descr: '<f4', fortran: false, shape: [3], data })
    const bytes = buildZip([{ name: 'x.npy', data: member, crc: (crc32(member) ^ 1) >>> 0 }])
    const path = join(dir, 'bad-crc.npz')
    writeFileSync(path, bytes)
    const r = await ingestCheckpoint(s, path, undefined, { displayPath: 'bad-crc.npz' })
    expect(r.meta).toBeUndefined()
    expect(r.note).toMatch(/^bad-crc\.npz: zip entry x\.npy: its data has CRC-32/)
    await s.commit()
    await roundTrip(s, r.id, bytes)
    await s.close()
  })

  test('every committed format fixture round-trips byte for byte', async () => {
    const s = await store()
    const fixtures = join(ROOT, 'src/formats/fixtures')
    const files: string[] = []
    for (const kind of readdirSync(fixtures, { withFileTypes: true })) {
      if (!kind.isDirectory()) continue
      for (const f of readdirSync(join(fixtures, kind.name), { withFileTypes: true })) {
        if (f.isFile()) files.push(join(fixtures, kind.name, f.name))
      }
    }
    expect(files.length).toBeGreaterThan(20)
    let checkpoints = 0
    for (const file of files) {
      const r = await ingestCheckpoint(s, file, undefined)
      if (r.meta) checkpoints++
      await s.commit()
      await roundTrip(s, r.id, readFileSync(file))
    }
    expect(checkpoints).toBeGreaterThan(15)
    await s.close()
  })
})

describe('reading a stored checkpoint at offsets', () => {
  test('tensors read from the store equal tensors read from the file, deltas included', async () => {
    const { openStoredFile } = await import('./stored-source.ts')
    const { readTensor, readTensorFrom } = await import('../formats/index.ts')
    const { readManifest } = await import('../store/index.ts')
    const s = await store()
    const a1 = randomF32(300_000, 50)
    const p1 = join(dir, 'rs1.safetensors')
    writeFileSync(p1, f32Model({ a: a1, b: randomF32(70_000, 51) }))
    const first = await ingestCheckpoint(s, p1, undefined)
    const a2 = Buffer.from(a1)
    for (let i = 0; i < 300_000; i += 500) a2.writeFloatLE(7, i * 4)
    const p2 = join(dir, 'rs2.safetensors')
    writeFileSync(p2, f32Model({ a: a2, b: randomF32(70_000, 51) }))
    const second = await ingestCheckpoint(s, p2, undefined, { previous: first.id })
    expect(second.deltas).toBe(1)
    await s.commit()
    const manifest = await readManifest(s, second.id)
    if (manifest.type !== 'file') throw new Error('expected a file manifest')
    const stored = await openStoredFile(s, manifest, 'rs2.safetensors')
    try {
      for (const tensor of second.meta?.tensors ?? []) {
        const fromStore = await collect(readTensorFrom(stored, tensor))
        const fromFile = await collect(readTensor(p2, tensor))
        expect(fromStore.equals(fromFile)).toBe(true)
      }
    } finally {
      await stored.close()
    }
    await s.close()
  })
})
