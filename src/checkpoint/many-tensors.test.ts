import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { buildSafetensors } from '../formats/test-helpers/builders.ts'
import { materialize, onePartId, openStore, readManifest, type Store } from '../store/index.ts'
import { statsOf, statsToJSON } from '../tensors/index.ts'
import { pseudoRandomBytes, tempDir } from '../test-helpers/index.ts'
import { tensorDeltas } from './deltas.ts'
import { diffCheckpoints } from './diff.ts'
import { ingestCheckpoint } from './ingest.ts'
import { mergeCheckpoints } from './merge.ts'
import { type CheckpointMeta, readCheckpointMeta, type TensorRecord } from './meta.ts'
import { parseStrategy } from './strategy.ts'
import {
  checkpointStubLines,
  parseStubTensors,
  STUB_TABLE_BUDGET,
  tableFitsStub,
  tensorLine,
} from './stub-lines.ts'
import { openVersion } from './version.ts'

const dir = tempDir('mlvc-many-tensors')
let n = 0
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

/** Tensor i of a model: a few F32 values (every 50th empty), from `seed`. */
function tensorData(i: number, seed: number): Buffer {
  const count = i % 50 === 0 ? 0 : 1 + (i % 5)
  const raw = pseudoRandomBytes(count * 4, i * 7919 + seed)
  const out = Buffer.alloc(count * 4)
  for (let k = 0; k < count; k++) out.writeFloatLE(raw.readInt32LE(k * 4) / 2 ** 31, k * 4)
  return out
}

/** A safetensors model of `count` small tensors; `changed` tensors get other values. */
function model(count: number, changed: readonly number[] = [], extra = 0): Buffer {
  const tensors = Array.from({ length: count + extra }, (_, i) => {
    const data = tensorData(i, changed.includes(i) ? 2 : 1)
    return { name: `layers.${i}.weight`, dtype: 'F32', shape: [data.length / 4], data }
  })
  return buildSafetensors(tensors, { format: 'pt' })
}

function write(bytes: Buffer): string {
  const path = join(dir, `m-${n++}.safetensors`)
  writeFileSync(path, bytes)
  return path
}

async function freshStore(): Promise<Store> {
  return openStore(join(dir, `store-${n++}`), { create: true })
}

const COUNT = 8000

describe('a checkpoint with more tensors than a stub can list', () => {
  test('the table goes to the store; the stub names it, says so and sums up each dtype', async () => {
    const s = await freshStore()
    const bytes = model(COUNT)
    const path = write(bytes)
    const result = await ingestCheckpoint(s, path, undefined)
    await s.commit()
    const meta = result.meta as CheckpointMeta
    expect(meta.table).toMatch(/^bagaaiera/)
    expect(meta.tensors).toHaveLength(COUNT)
    const full = meta.tensors.map(tensorLine).join('\n').length
    expect(full).toBeGreaterThan(STUB_TABLE_BUDGET)
    const lines = checkpointStubLines(meta)
    expect(`${lines.join('\n')}\n`.length).toBeLessThan(2000)
    expect(lines.slice(0, 3)).toEqual([
      'format: safetensors',
      `tensors: ${COUNT} (${meta.tensors.reduce((sum, t) => sum + (t.shape[0] as number), 0)} elements)`,
      `table: ${meta.table}`,
    ])
    expect(lines[3]).toMatch(/^# 8000 tensors .* in the mlvc store as the object named by table:/)
    expect(lines[4]).toMatch(
      /^dtype: F32 tensors=8000 elements=\d+ bytes=\d+ mean=\S+ std=\S+ min=\S+ max=\S+ l2=\S+$/,
    )
    expect(parseStubTensors(lines)).toMatchObject({ table: meta.table, count: COUNT, tensors: [] })
    // The file manifest holds a count and names the table, which reads back whole and exact.
    const manifest = await readManifest(s, result.id)
    expect(manifest).toMatchObject({ type: 'file', table: meta.table, meta: { tensors: COUNT } })
    const back = await readCheckpointMeta(s, manifest)
    expect(back?.tensors).toEqual(meta.tensors)
    // Statistics computed on the worker are those of each tensor's bytes.
    for (const i of [1, 2, 50, 7999]) {
      const t = meta.tensors[i] as TensorRecord
      expect(t.stats).toEqual(statsToJSON(statsOf('F32', tensorData(i, 1))))
    }
    const out = join(dir, `out-${n++}`)
    await materialize(s, result.id, out, { deltas: tensorDeltas() })
    expect(sha(readFileSync(out))).toBe(sha(bytes))
    await s.close()
  })

  test("tensors under 1 KiB go into the file's own chunks: a few objects, not two per tensor", async () => {
    const s = await freshStore()
    const big = (seed: number) => pseudoRandomBytes(4096 * 4, seed)
    const tensors = [
      { name: 'embed', dtype: 'F32', shape: [4096], data: big(1) },
      ...Array.from({ length: COUNT }, (_, i) => {
        const data = tensorData(i, 1)
        return { name: `layers.${i}.weight`, dtype: 'F32', shape: [data.length / 4], data }
      }),
      { name: 'head', dtype: 'F32', shape: [4096], data: big(2) },
    ]
    const result = await ingestCheckpoint(s, write(buildSafetensors(tensors)), undefined)
    await s.commit()
    // Each big tensor is a part (a manifest and a chunk); the rest is the header and tiny
    // tensors in content-defined chunks, the tensor table and the file manifest.
    expect(s.table.size).toBeLessThan(40)
    const manifest = await readManifest(s, result.id)
    expect(manifest.type === 'file' && manifest.parts.filter((p) => 'ref' in p)).toHaveLength(2)
    // A tiny tensor's content id is the id its bytes would have as a part of their own.
    const meta = result.meta as CheckpointMeta
    const content = new Map(meta.tensors.map((t) => [t.name, t.content]))
    expect(content.get('layers.1.weight')).toBe(onePartId(tensorData(1, 1)))
    expect(content.get('layers.50.weight')).toBeNull()
    expect(content.get('embed')).toMatch(/^bagaaiera/)
    await s.close()
  })

  test('storing it again gives the same id and stub, with or without the stored version as previous', async () => {
    const s = await freshStore()
    const path = write(model(COUNT))
    const first = await ingestCheckpoint(s, path, undefined)
    const again = await ingestCheckpoint(s, path, undefined)
    const overItself = await ingestCheckpoint(s, path, undefined, { previous: first.id })
    for (const r of [again, overItself]) {
      expect(r.id).toBe(first.id)
      expect(checkpointStubLines(r.meta as CheckpointMeta)).toEqual(
        checkpointStubLines(first.meta as CheckpointMeta),
      )
    }
    await s.close()
  })

  test('a new version over it: unchanged tensors keep their ids and statistics, the table shares its unchanged chunks', async () => {
    const s = await freshStore()
    const first = await ingestCheckpoint(s, write(model(COUNT)), undefined)
    await s.commit()
    const v2 = model(COUNT, [3, 4001])
    const second = await ingestCheckpoint(s, write(v2), undefined, { previous: first.id })
    await s.commit()
    const [a, b] = [first.meta as CheckpointMeta, second.meta as CheckpointMeta]
    expect(b.table).not.toBe(a.table)
    const differ = b.tensors.flatMap((t, i) => (t.content === a.tensors[i]?.content ? [] : [i]))
    expect(differ).toEqual([3, 4001])
    expect(b.tensors[3]?.stats).toEqual(statsToJSON(statsOf('F32', tensorData(3, 2))))
    // Content-defined chunks: the new table shares all but the chunks around the changed lines.
    const chunksOf = async (id: string) => {
      const m = await readManifest(s, id)
      return m.type === 'blob' ? m.chunks.map(([c]) => c) : []
    }
    const before = new Set(await chunksOf(a.table as string))
    const after = await chunksOf(b.table as string)
    expect(after.length).toBeGreaterThan(10)
    expect(after.filter((c) => !before.has(c)).length).toBeLessThanOrEqual(4)
    const out = join(dir, `out-${n++}`)
    await materialize(s, second.id, out, { deltas: tensorDeltas() })
    expect(sha(readFileSync(out))).toBe(sha(v2))
    await s.close()
  })

  test('diffs and merges read the stored tables', async () => {
    const s = await freshStore()
    const put = async (bytes: Buffer) => (await ingestCheckpoint(s, write(bytes), undefined)).id
    const ids = {
      base: await put(model(COUNT)),
      ours: await put(model(COUNT, [10])),
      theirs: await put(model(COUNT, [20], 1)),
    }
    await s.commit()
    const [va, vb] = [
      await openVersion({ id: ids.base }, { store: s, data: false }),
      await openVersion({ id: ids.theirs }, { store: s, data: false }),
    ]
    const diff = await diffCheckpoints(va, vb, { data: false })
    expect(diff.summary).toMatchObject({ tensors: COUNT + 1, changed: 1, added: 1 })
    expect(diff.tensors.find((t) => t.status === 'changed')?.name).toBe('layers.20.weight')
    const outcome = await mergeCheckpoints(s, {
      ...ids,
      path: 'm.safetensors',
      choose: () => parseStrategy('fail', 'test'),
    })
    expect(outcome.conflicts).toEqual([])
    const merged = outcome.result?.meta as CheckpointMeta
    expect(merged.table).toMatch(/^bagaaiera/)
    const out = join(dir, `out-${n++}`)
    await materialize(s, outcome.result?.id as string, out, { deltas: tensorDeltas() })
    const expected = model(COUNT, [10, 20], 1)
    expect(sha(readFileSync(out))).toBe(sha(expected))
    await s.close()
  })

  test('a stub naming a table: tensors from the store; without it, an error naming the file', async () => {
    const s = await freshStore()
    const result = await ingestCheckpoint(s, write(model(COUNT)), undefined)
    await s.commit()
    const stubLines = checkpointStubLines(result.meta as CheckpointMeta)
    const version = await openVersion({ stubLines, path: 'm.safetensors' }, { store: s })
    expect(version?.tensors).toHaveLength(COUNT)
    expect(version?.tensors[1]).toMatchObject({
      name: 'layers.1.weight',
      content: (result.meta as CheckpointMeta).tensors[1]?.content,
      stats: { rounded: false },
    })
    const empty = await freshStore()
    await expect(
      openVersion({ stubLines, path: 'm.safetensors' }, { store: empty }),
    ).rejects.toThrow(
      /m\.safetensors: its 8000 tensors are listed in a table in the mlvc store \(bagaaiera\w+\), which is not available here/,
    )
    await expect(openVersion({ stubLines, path: 'm.safetensors' })).rejects.toMatchObject({
      code: 'MISSING_OBJECT',
    })
    await s.close()
    await empty.close()
  })
})

describe('the stub budget', () => {
  const record = (name: string): TensorRecord => ({
    name,
    dtype: 'F32',
    shape: [1],
    start: 0,
    end: 4,
    encoding: { kind: 'dense', byteOrder: 'little', order: 'C' },
    nbytes: 4,
    content: null,
    stats: null,
  })
  const meta = (tensors: TensorRecord[]): CheckpointMeta => ({
    kind: 'checkpoint',
    format: 'safetensors',
    metadata: {},
    tensors,
  })

  test('lines up to the budget stay in the stub; one byte more and the table moves out', () => {
    // Names sized so that the format, count and tensor lines (with newlines) total the budget.
    const tensors = Array.from({ length: 1000 }, (_, i) => record(`t${String(i).padStart(4, '0')}`))
    const lines = () => checkpointStubLines(meta(tensors))
    const used = lines().reduce((sum, l) => sum + Buffer.byteLength(l) + 1, 0)
    const last = tensors[999] as TensorRecord
    last.name = `${last.name}${'x'.repeat(STUB_TABLE_BUDGET - used)}`
    expect(lines().reduce((sum, l) => sum + Buffer.byteLength(l) + 1, 0)).toBe(STUB_TABLE_BUDGET)
    expect(tableFitsStub(meta(tensors))).toBe(true)
    last.name = `${last.name}é`
    expect(tableFitsStub(meta(tensors))).toBe(false)
  })
})
