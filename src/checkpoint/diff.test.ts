import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { buildSafetensors } from '../formats/test-helpers/builders.ts'
import { openStore, type Store } from '../store/index.ts'
import { pseudoRandomBytes, tempDir } from '../test-helpers/index.ts'
import { diffCheckpoints, type TensorDiff } from './diff.ts'
import { boundsFromStats } from './diff-bounds.ts'
import { ingestCheckpoint } from './ingest.ts'
import { inspectVersion } from './inspect.ts'
import type { CheckpointMeta } from './meta.ts'
import { addedBytes, newTensorBytes } from './stored-bytes.ts'
import { checkpointStubLines } from './stub-lines.ts'
import { diffFigures } from './test-helpers/index.ts'
import { combineVersions, openVersion, stubStats } from './version.ts'

const dir = tempDir('mlvc-diff')
let n = 0

function f32(count: number, seed: number, scale = 0.1): Float32Array {
  const raw = pseudoRandomBytes(count * 4, seed)
  const out = new Float32Array(count)
  for (let i = 0; i < count; i++) out[i] = (raw.readUInt32LE(i * 4) / 2 ** 32 - 0.5) * scale
  return out
}

const bytesOf = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)

function model(tensors: Record<string, { data: Float32Array; shape?: number[] }>): Buffer {
  return buildSafetensors(
    Object.entries(tensors).map(([name, t]) => ({
      name,
      dtype: 'F32',
      shape: t.shape ?? [t.data.length],
      data: bytesOf(t.data),
    })),
  )
}

async function newStore(): Promise<Store> {
  return openStore(join(dir, `store-${n++}`), { create: true })
}

async function store(s: Store, bytes: Buffer, previous?: string) {
  const path = join(dir, `m-${n++}.safetensors`)
  writeFileSync(path, bytes)
  const result = await ingestCheckpoint(s, path, undefined, { previous })
  await s.commit()
  return { path, id: result.id, meta: result.meta as CheckpointMeta }
}

const byName = (diffs: TensorDiff[]) => new Map(diffs.map((d) => [d.name, d]))

// v1 → v2: `a` fine-tuned in 1% of its elements, `b` untouched, `c` removed, `d` added, `e`
// reshaped, `f` rewritten entirely.
const a1 = f32(20_000, 1)
const a2 = Float32Array.from(a1)
for (let i = 0; i < a2.length; i += 100) a2[i] = (a2[i] as number) + 0.01
const b = f32(5_000, 2)
const f1 = f32(3_000, 3)
const f2 = f32(3_000, 4)
const v1 = model({
  a: { data: a1, shape: [200, 100] },
  b: { data: b },
  c: { data: f32(100, 5) },
  e: { data: f32(600, 6), shape: [20, 30] },
  f: { data: f1 },
})
const v2 = model({
  a: { data: a2, shape: [200, 100] },
  b: { data: b },
  d: { data: f32(10, 7) },
  e: { data: f32(600, 6), shape: [30, 20] },
  f: { data: f2 },
})

describe('diffCheckpoints', () => {
  test('both versions stored: statuses by content, exact figures from the data', async () => {
    const s = await newStore()
    const old = await store(s, v1)
    const next = await store(s, v2, old.id)
    const va = await openVersion({ id: old.id }, { store: s })
    const vb = await openVersion({ id: next.id }, { store: s })
    const diff = await diffCheckpoints(va, vb)
    await va?.close()
    await vb?.close()
    const d = byName(diff.tensors)
    expect(diff.tensors.map((t) => t.name)).toEqual(['a', 'b', 'd', 'e', 'f', 'c'])
    expect(d.get('b')).toMatchObject({ status: 'unchanged', basis: 'content' })
    expect(d.get('c')?.status).toBe('removed')
    expect(d.get('d')?.status).toBe('added')
    expect(d.get('e')).toMatchObject({ status: 'changed', shapeChanged: true, dtypeChanged: false })
    const a = d.get('a')
    expect(a).toMatchObject({ status: 'changed', basis: 'data' })
    const want = diffFigures(a1, a2)
    expect(a?.exact?.changed).toBe(200)
    expect(a?.exact?.changedFraction).toBe(0.01)
    expect(a?.exact?.l2Delta).toBeCloseTo(want.l2Delta, 12)
    expect(a?.exact?.relChange).toBeCloseTo(want.relChange, 12)
    expect(a?.exact?.maxAbsDelta).toBe(want.maxAbsDelta)
    expect(a?.exact?.cosine).toBeCloseTo(want.cosine, 12)
    expect(d.get('f')?.exact?.changed).toBe(diffFigures(f1, f2).changed)
    expect(diff.summary).toMatchObject({
      tensors: 6,
      added: 1,
      removed: 1,
      changed: 3,
      unchanged: 1,
      unknown: 0,
      parameters: 20_000 + 5_000 + 10 + 600 + 3_000,
      parametersChanged: 200 + diffFigures(f1, f2).changed + 10 + 600,
      parametersExact: true,
    })
    // What v2 cost in the store: a's delta, f, d, e's new header and the manifests; never b.
    const added = (await addedBytes(s, [next.id], [old.id])) as number
    expect(added).toBeGreaterThan(3_000 * 4)
    expect(added).toBeLessThan(3_000 * 4 + 20_000 * 4)
    expect(await addedBytes(s, [old.id], [old.id])).toBe(0)
    await s.close()
  })

  test('stubs only: statuses from content ids, bounds from rounded statistics that hold', async () => {
    const s = await newStore()
    const old = await store(s, v1)
    const next = await store(s, v2, old.id)
    await s.close()
    const va = await openVersion({ id: old.id, stubLines: checkpointStubLines(old.meta) })
    const vb = await openVersion({ id: next.id, stubLines: checkpointStubLines(next.meta) })
    const diff = await diffCheckpoints(va, vb)
    const d = byName(diff.tensors)
    expect(d.get('b')).toMatchObject({ status: 'unchanged', basis: 'content' })
    expect(d.get('e')).toMatchObject({ status: 'changed', shapeChanged: true })
    for (const [name, x, y] of [
      ['a', a1, a2],
      ['f', f1, f2],
    ] as const) {
      const t = d.get(name)
      expect(t).toMatchObject({ status: 'changed', basis: 'content' })
      expect(t?.exact).toBeUndefined()
      const want = diffFigures(x, y)
      const bounds = t?.bounds
      expect(bounds?.rounded).toBe(true)
      for (const key of ['l2Delta', 'relChange', 'maxAbsDelta', 'cosine'] as const) {
        expect(bounds?.[key].min).toBeLessThanOrEqual(want[key])
        expect(bounds?.[key].max).toBeGreaterThanOrEqual(want[key])
      }
    }
    expect(diff.summary.parametersExact).toBe(false)
    expect(diff.summary.parametersChanged).toBe(20_000 + 3_000 + 10 + 600)
    // e was only reshaped: its bytes (and content id) are the same.
    expect(newTensorBytes(va, vb as never)).toBe((20_000 + 10 + 3_000) * 4)
  })

  test('an empty tensor (no bytes, no content id) is unchanged, from the stubs alone too', async () => {
    const s = await newStore()
    const empty = { data: new Float32Array(0), shape: [0, 4] }
    const old = await store(s, model({ z: empty, b: { data: b } }))
    const next = await store(s, model({ z: empty, b: { data: f32(5_000, 9) } }), old.id)
    await s.close()
    expect(next.meta.tensors[0]).toMatchObject({ name: 'z', content: null })
    const va = await openVersion({ id: old.id, stubLines: checkpointStubLines(old.meta) })
    const vb = await openVersion({ id: next.id, stubLines: checkpointStubLines(next.meta) })
    const diff = await diffCheckpoints(va, vb, { data: false })
    expect(byName(diff.tensors).get('z')).toMatchObject({ status: 'unchanged' })
    expect(diff.summary).toMatchObject({ changed: 1, unchanged: 1, unknown: 0 })
  })

  test('a file not stored yet against a stored version: compared by the data', async () => {
    const s = await newStore()
    const old = await store(s, v1)
    const file = join(dir, 'work.safetensors')
    writeFileSync(file, v2)
    const va = await openVersion({ id: old.id }, { store: s })
    const vb = await openVersion({ file }, { store: s })
    expect(vb?.ids).toBeUndefined()
    const diff = await diffCheckpoints(va, vb)
    await va?.close()
    const d = byName(diff.tensors)
    expect(d.get('b')).toMatchObject({ status: 'unchanged', basis: 'data' })
    expect(d.get('a')?.exact?.changed).toBe(200)
    await s.close()
  })

  test('a file not stored yet against a stub whose data is elsewhere: statistics decide', async () => {
    const s = await newStore()
    const old = await store(s, v1)
    await s.close()
    const file = join(dir, 'work2.safetensors')
    writeFileSync(file, v2)
    const va = await openVersion({ id: old.id, stubLines: checkpointStubLines(old.meta) })
    const vb = await openVersion({ file })
    const d = byName((await diffCheckpoints(va, vb)).tensors)
    expect(d.get('a')).toMatchObject({ status: 'changed', basis: 'stats' })
    expect(d.get('b')).toMatchObject({ status: 'unknown', basis: 'stats' })
    // Without reading data nothing but the headers can be compared.
    const vc = await openVersion({ file }, { data: false })
    const nd = byName((await diffCheckpoints(va, vc, { data: false })).tensors)
    expect(nd.get('a')).toMatchObject({ status: 'unknown', basis: 'layout' })
    expect(nd.get('d')?.status).toBe('added')
  })

  test('shards compared as one checkpoint: a tensor that moved between shards is unchanged', async () => {
    const s = await newStore()
    const one = await store(s, model({ x: { data: f32(100, 8) }, y: { data: f32(100, 9) } }))
    const two = await store(s, model({ z: { data: f32(100, 10) } }))
    const one2 = await store(s, model({ x: { data: f32(100, 8) } }))
    const two2 = await store(s, model({ y: { data: f32(100, 9) }, z: { data: f32(100, 11) } }))
    const open = (id: string) => openVersion({ id }, { store: s }) as never
    const before = combineVersions([await open(one.id), await open(two.id)], 'safetensors')
    const after = combineVersions([await open(one2.id), await open(two2.id)], 'safetensors')
    const d = byName((await diffCheckpoints(before, after)).tensors)
    expect(d.get('x')?.status).toBe('unchanged')
    expect(d.get('y')?.status).toBe('unchanged')
    expect(d.get('z')?.status).toBe('changed')
    await before.close()
    await after.close()
    await s.close()
  })
})

describe('inspectVersion', () => {
  test('statistics computed from a file equal those stored; a stub gives them rounded', async () => {
    const s = await newStore()
    const stored = await store(s, v1)
    const fromFile = await inspectVersion((await openVersion({ file: stored.path })) as never)
    const fromStore = await inspectVersion(
      (await openVersion({ id: stored.id }, { store: s })) as never,
    )
    expect(fromFile.map((r) => r.stats)).toEqual(fromStore.map((r) => r.stats))
    expect(fromStore[0]).toMatchObject({
      name: 'a',
      dtype: 'F32',
      shape: [200, 100],
      elements: 20_000,
      bytes: 80_000,
      rounded: false,
    })
    const fromStub = await inspectVersion(
      (await openVersion({ stubLines: checkpointStubLines(stored.meta) })) as never,
    )
    expect(fromStub[0]?.rounded).toBe(true)
    expect(fromStub[0]?.stats?.mean).toBeCloseTo(fromStore[0]?.stats?.mean ?? 0, 3)
    await s.close()
  })
})

describe('boundsFromStats', () => {
  test('exact and rounded statistics bound the true figures, for many random changes', async () => {
    const { statsOf } = await import('../tensors/index.ts')
    const { formatNumber } = await import('../tensors/index.ts')
    const round = (x: number) => Number(formatNumber(x, 4))
    for (let seed = 1; seed < 40; seed++) {
      const x = f32(500, seed, 1 + (seed % 5))
      const y = Float32Array.from(x)
      const every = 1 + (seed % 7)
      for (let i = 0; i < y.length; i += every) y[i] = (y[i] as number) * (1 + seed / 100) + 0.01
      const want = diffFigures(x, y)
      const sx = statsOf('F32', bytesOf(x))
      const sy = statsOf('F32', bytesOf(y))
      const printed = (s: typeof sx) => ({
        ...s,
        mean: round(s.mean),
        std: round(s.std),
        min: round(s.min),
        max: round(s.max),
        l2: round(s.l2),
      })
      for (const rounded of [false, true]) {
        const bounds = boundsFromStats(
          { value: rounded ? printed(sx) : sx, rounded },
          { value: rounded ? printed(sy) : sy, rounded },
        )
        for (const key of ['l2Delta', 'relChange', 'maxAbsDelta', 'cosine'] as const) {
          const slack = rounded ? 0 : 1e-9 * Math.abs(want[key])
          expect(bounds?.[key].min, `${key} seed ${seed}`).toBeLessThanOrEqual(want[key] + slack)
          expect(bounds?.[key].max, `${key} seed ${seed}`).toBeGreaterThanOrEqual(want[key] - slack)
        }
      }
    }
  })

  test('a stub line reads back as statistics', () => {
    const stats = stubStats({
      name: 'w',
      dtype: 'F32',
      shape: [2, 3],
      content: null,
      stats: { mean: '1.000e+00', std: 'nan', min: '-inf', max: 'inf', l2: '2.000e+00', nan: '2' },
    })
    expect(stats?.value).toMatchObject({ count: 6, mean: 1, max: Infinity, min: -Infinity, nan: 2 })
    expect(Number.isNaN(stats?.value.std)).toBe(true)
  })
})
