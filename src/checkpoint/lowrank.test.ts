import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { buildSafetensors } from '../formats/test-helpers/builders.ts'
import { materialize, openStore, readManifest, storeSize } from '../store/index.ts'
import { tempDir } from '../test-helpers/index.ts'
import { tensorDeltas } from './deltas.ts'
import { ingestCheckpoint } from './ingest.ts'
import { randomF32 } from './test-helpers/index.ts'

const dir = tempDir('mlvc-lowrank')
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

/** A merged-LoRA pair written by torch (scripts/gen-lowrank-fixtures.py), 128 × 160. */
function loraFixture(name: string, version: 'base' | 'merged'): Buffer {
  return readFileSync(
    new URL(`../tensors/fixtures/lowrank-${name}-${version}.bin`, import.meta.url),
  )
}

function model(version: 'base' | 'merged'): Buffer {
  return buildSafetensors([
    { name: 'attn.q.weight', dtype: 'F32', shape: [128, 160], data: loraFixture('f32', version) },
    { name: 'attn.q.bias', dtype: 'F32', shape: [160], data: randomF32(160, 1) },
    {
      name: 'mlp.up.weight',
      dtype: 'BF16',
      shape: [128, 160],
      data: loraFixture('bf16-upcast', version),
    },
    {
      name: 'mlp.down.weight',
      dtype: 'BF16',
      shape: [128, 160],
      data: loraFixture('bf16-inplace', version),
    },
  ])
}

describe('merged LoRA fine-tunes are stored as exact low-rank deltas', () => {
  test('each adapted matrix becomes a low-rank delta: a fraction of the file, read back byte for byte', async () => {
    const s = await openStore(join(dir, 'store'), { create: true })
    const v1 = model('base')
    const v2 = model('merged')
    writeFileSync(join(dir, 'v1.safetensors'), v1)
    writeFileSync(join(dir, 'v2.safetensors'), v2)
    const first = await ingestCheckpoint(s, join(dir, 'v1.safetensors'), undefined)
    await s.commit()
    const before = await storeSize(s)
    const second = await ingestCheckpoint(s, join(dir, 'v2.safetensors'), undefined, {
      previous: first.id,
    })
    await s.commit()
    expect(second.deltas).toBe(3)
    // The tensors changed in 93–100% of their elements; stored whole they would take v2's size.
    expect((await storeSize(s)) - before).toBeLessThan(0.35 * v2.length)
    const out = join(dir, 'out.safetensors')
    await materialize(s, second.id, out, { deltas: tensorDeltas() })
    expect(sha(readFileSync(out))).toBe(sha(v2))
    // Each delta names its dtype and the part the tensor has when stored whole.
    const manifest = await readManifest(s, second.id)
    const refs =
      manifest.type === 'file' ? manifest.parts.flatMap((p) => ('ref' in p ? [p.ref] : [])) : []
    const kinds = await Promise.all(refs.map(async (ref) => readManifest(s, ref)))
    expect(
      kinds.filter((m) => m.type === 'delta').map((m) => m.type === 'delta' && m.dtype),
    ).toEqual(['F32', 'BF16', 'BF16'])
    await s.close()
  })

  test('a sparse change of a matrix stays a sparse delta; a full random rewrite is stored whole', async () => {
    const s = await openStore(join(dir, 'store-sparse'), { create: true })
    const w = randomF32(128 * 160, 3)
    const v1 = buildSafetensors([
      { name: 'w', dtype: 'F32', shape: [128, 160], data: w },
      { name: 'x', dtype: 'F32', shape: [128, 160], data: randomF32(128 * 160, 4) },
    ])
    const sparse = Buffer.from(w)
    for (let i = 0; i < 128 * 160; i += 97)
      sparse.writeFloatLE(sparse.readFloatLE(4 * i) + 1e-3, 4 * i)
    const v2 = buildSafetensors([
      { name: 'w', dtype: 'F32', shape: [128, 160], data: sparse },
      { name: 'x', dtype: 'F32', shape: [128, 160], data: randomF32(128 * 160, 5) },
    ])
    writeFileSync(join(dir, 's1.safetensors'), v1)
    writeFileSync(join(dir, 's2.safetensors'), v2)
    const first = await ingestCheckpoint(s, join(dir, 's1.safetensors'), undefined)
    await s.commit()
    const second = await ingestCheckpoint(s, join(dir, 's2.safetensors'), undefined, {
      previous: first.id,
    })
    await s.commit()
    expect(second.deltas).toBe(1)
    const manifest = await readManifest(s, second.id)
    const refs =
      manifest.type === 'file' ? manifest.parts.flatMap((p) => ('ref' in p ? [p.ref] : [])) : []
    const [wPart, xPart] = await Promise.all(refs.map(async (ref) => readManifest(s, ref)))
    expect(wPart?.type === 'delta' && wPart.dtype).toBe('U8')
    expect(xPart?.type).toBe('part')
    const out = join(dir, 's-out.safetensors')
    await materialize(s, second.id, out, { deltas: tensorDeltas() })
    expect(sha(readFileSync(out))).toBe(sha(v2))
    await s.close()
  })
})
