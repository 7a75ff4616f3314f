import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { sparseCount } from './edits.ts'
import {
  CHECKPOINT_VERSIONS,
  changedBytes,
  finetunedBytes,
  planCheckpoint,
  UPDATE_ELEMENTS,
  writeCheckpoint,
} from './safetensors.ts'

interface Entry {
  dtype: string
  shape: number[]
  data_offsets: [number, number]
}

/** Parses a safetensors file the way the format's readers do, checking what they check. */
function parseSafetensors(file: Buffer): { headerLength: number; entries: Map<string, Entry> } {
  const headerLength = Number(file.readBigUInt64LE(0))
  const json = file.subarray(8, 8 + headerLength).toString('utf8')
  const parsed = JSON.parse(json) as Record<string, unknown>
  const entries = new Map<string, Entry>()
  for (const [name, value] of Object.entries(parsed)) {
    if (name !== '__metadata__') entries.set(name, value as Entry)
  }
  return { headerLength, entries }
}

const dir = mkdtempSync(join(tmpdir(), 'mlvc-bench-st-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('synthetic safetensors checkpoint', () => {
  const size = 1 << 20
  const plan = planCheckpoint(size)
  writeCheckpoint(join(dir, 'v1.safetensors'), plan, 'v1')
  writeCheckpoint(join(dir, 'v2.safetensors'), plan, 'v2')
  const v1 = readFileSync(join(dir, 'v1.safetensors'))
  const v2 = readFileSync(join(dir, 'v2.safetensors'))
  const { headerLength, entries } = parseSafetensors(v1)

  it('has a valid, sorted, 8-aligned header and about 200 F32 tensors', () => {
    expect((8 + headerLength) % 8).toBe(0)
    const keys = Object.keys(JSON.parse(v1.subarray(8, 8 + headerLength).toString('utf8')))
    expect(keys).toEqual([...keys].sort())
    expect(entries.size).toBeGreaterThanOrEqual(200)
    expect(entries.size).toBeLessThanOrEqual(201)
    for (const entry of entries.values()) {
      expect(entry.dtype).toBe('F32')
      const [begin, end] = entry.data_offsets
      expect(end - begin).toBe(4 * entry.shape.reduce((a, b) => a * b, 1))
    }
  })

  it('covers the data section without holes or overlaps, and is about the size asked', () => {
    const ranges = [...entries.values()].map((e) => e.data_offsets).sort((a, b) => a[0] - b[0])
    let offset = 0
    for (const [begin, end] of ranges) {
      expect(begin).toBe(offset)
      offset = end
    }
    expect(v1.length).toBe(8 + headerLength + offset)
    expect(statSync(join(dir, 'v1.safetensors')).size).toBe(plan.size)
    expect(Math.abs(plan.size - size)).toBeLessThan(size * 0.01)
  })

  it('writes finite float values', () => {
    const data = new Float32Array(v1.buffer.slice(v1.byteOffset + 8 + headerLength))
    const bad = data.filter((x) => !Number.isFinite(x) || Math.abs(x) >= 1 || x === 0)
    expect(bad.length).toBe(0)
  })

  it('v2 rewrites exactly the three planned tensors, same header and offsets', () => {
    expect(v2.length).toBe(v1.length)
    expect(v2.subarray(0, 8 + headerLength).equals(v1.subarray(0, 8 + headerLength))).toBe(true)
    const hash = (b: Buffer) => createHash('sha256').update(b).digest('hex')
    const differ = [...entries].filter(([, e]) => {
      const [begin, end] = e.data_offsets.map((o) => 8 + headerLength + o) as [number, number]
      return hash(v1.subarray(begin, end)) !== hash(v2.subarray(begin, end))
    })
    expect(differ.map(([name]) => name).sort()).toEqual([...plan.changed].sort())
    expect(changedBytes(plan) / plan.size).toBeLessThan(0.05)
  })

  it('scales to a 1 GiB plan without writing it', () => {
    const big = planCheckpoint(2 ** 30)
    expect(Math.abs(big.size - 2 ** 30)).toBeLessThan(2 ** 30 * 0.001)
    expect(big.tensors.length).toBe(201)
    expect(changedBytes(big) / big.size).toBeGreaterThan(0.005)
    expect(changedBytes(big) / big.size).toBeLessThan(0.02)
    expect(big.finetuned).toHaveLength(2)
    expect(finetunedBytes(big) / big.size).toBeGreaterThan(0.0095)
    expect(finetunedBytes(big) / big.size).toBeLessThan(0.0105)
  })
})

describe('versions of one plan', () => {
  const plan = planCheckpoint(1 << 20)
  const files = new Map(
    CHECKPOINT_VERSIONS.map((v) => {
      const path = join(dir, `${v}.safetensors`)
      writeCheckpoint(path, plan, v)
      return [v, readFileSync(path)] as const
    }),
  )
  const header = 8 + Number(files.get('v1')?.readBigUInt64LE(0))
  const words = (v: string, t: { begin: number; end: number }) => {
    const file = files.get(v as never) as Buffer
    const bytes = file.subarray(header + t.begin, header + t.end)
    return new Uint32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length))
  }
  const differing = (a: string, b: string, t: { begin: number; end: number }) => {
    const [x, y] = [words(a, t), words(b, t)]
    return x.filter((w, i) => w !== y[i]).length
  }

  it('share the header and size', () => {
    for (const file of files.values()) {
      expect(file.length).toBe(plan.size)
      expect(file.subarray(0, header).equals(plan.header)).toBe(true)
    }
  })

  it('finetune rewrites 1% of the tensors entirely and nothing else', () => {
    for (const t of plan.tensors) {
      const n = (t.end - t.begin) / 4
      expect(differing('v1', 'finetune', t)).toBe(plan.finetuned.includes(t.name) ? n : 0)
    }
    expect(plan.finetuned).toHaveLength(2)
  })

  it('update changes 0.1% of the elements of every tensor of finetune', () => {
    for (const t of plan.tensors) {
      const n = (t.end - t.begin) / 4
      expect(differing('finetune', 'update', t)).toBe(sparseCount(n, UPDATE_ELEMENTS))
    }
  })

  it('ours and theirs change every element of every tensor, differently', () => {
    for (const t of plan.tensors) {
      const n = (t.end - t.begin) / 4
      expect(differing('v1', 'ours', t)).toBe(n)
      expect(differing('v1', 'theirs', t)).toBe(n)
      expect(differing('ours', 'theirs', t)).toBeGreaterThan(n * 0.99)
    }
  })

  it('keep every value finite and weight-like', () => {
    for (const v of CHECKPOINT_VERSIONS) {
      const file = files.get(v) as Buffer
      const data = new Float32Array(file.buffer.slice(file.byteOffset + header))
      expect(data.filter((x) => !Number.isFinite(x) || Math.abs(x) >= 1 || x === 0).length).toBe(0)
    }
  })
})
