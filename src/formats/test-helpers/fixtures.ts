/** Test-only: the committed fixtures, the facts gen-fixtures.py recorded, and layout checks. */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect } from 'vitest'
import { isMlvcError } from '../../core/index.ts'
import type { CheckpointLayout, TensorLayout } from '../layout.ts'
import { type ReadTensorOptions, readTensor } from '../read-tensor.ts'

export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url))

export interface TensorFact {
  name: string
  dtype: string
  shape: number[]
  sha256: string
  values?: Array<number | boolean>
  nbytes?: number
}

export interface Fact {
  format?: string
  size?: number
  file_sha256?: string
  tensors?: TensorFact[]
  metadata?: Record<string, unknown>
  error?: 'legacy' | 'refused'
  global?: string
  tied?: string[][]
  index?: { metadata: Record<string, unknown>; weight_map: Record<string, string> }
  value?: unknown
  external?: Record<string, string>
  alignment?: number
  summarized?: Record<string, Record<string, unknown>>
  written?: { replace: string[]; zero: string[]; sha256: string; tensors: Record<string, string> }
}

export const FACTS: Record<string, Fact> = JSON.parse(
  readFileSync(join(FIXTURES, 'expected.json'), 'utf8'),
)

export function fixture(rel: string): string {
  return join(FIXTURES, rel)
}

/** Fixtures that hold tensors, as [relative path, facts]. */
export function checkpointFixtures(): Array<[string, Fact & { tensors: TensorFact[] }]> {
  return Object.entries(FACTS).filter(
    (e): e is [string, Fact & { tensors: TensorFact[] }] => e[1].tensors !== undefined,
  )
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

export async function tensorBytes(
  path: string,
  tensor: TensorLayout,
  options?: ReadTensorOptions,
): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const b of readTensor(path, tensor, options)) parts.push(b)
  return Buffer.concat(parts)
}

export function tensorNamed(layout: CheckpointLayout, name: string): TensorLayout {
  const t = layout.tensors.find((x) => x.name === name)
  if (!t) throw new Error(`no tensor ${name}`)
  return t
}

/** Everything the layout contract promises, checked for one layout of a file of `size` bytes. */
export function checkLayout(layout: CheckpointLayout, size: number): void {
  expect(layout.size).toBe(size)
  const names = layout.tensors.map((t) => t.name)
  expect(new Set(names).size).toBe(names.length)
  // Inserted in sorted order, so the order depends on the key set alone (JS lists integer-like keys first).
  const keys = Object.keys(layout.metadata)
  expect(keys).toEqual(Object.keys(Object.fromEntries(keys.toSorted().map((k) => [k, 0]))))
  let previousEnd = 0
  for (const s of layout.segments) {
    expect(s.start).toBeGreaterThanOrEqual(previousEnd)
    expect(s.end).toBeGreaterThan(s.start)
    expect(s.tensors.length).toBeGreaterThan(0)
    previousEnd = s.end
  }
  expect(previousEnd).toBeLessThanOrEqual(size)
  for (const t of layout.tensors) {
    expect(Number.isSafeInteger(t.nbytes) && t.nbytes >= 0).toBe(true)
    expect(t.start).toBeLessThanOrEqual(t.end)
    if (t.file !== undefined || t.end === t.start) continue
    expect(t.start).toBeGreaterThanOrEqual(0)
    expect(t.end).toBeLessThanOrEqual(size)
    const holding = layout.segments.filter((s) => s.tensors.includes(t.name))
    expect(holding).toHaveLength(1)
    expect(holding[0]?.start).toBeLessThanOrEqual(t.start)
    expect(holding[0]?.end).toBeGreaterThanOrEqual(t.end)
  }
  for (const s of layout.segments) for (const n of s.tensors) expect(names).toContain(n)
}

/** Resolves to the error if `promise` rejects with BAD_FORMAT whose message matches all patterns. */
export async function expectBadFormat(
  promise: Promise<unknown>,
  ...patterns: RegExp[]
): Promise<Error> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!isMlvcError(err, 'BAD_FORMAT')) throw new Error(`expected BAD_FORMAT, got ${String(err)}`)
  for (const p of patterns) expect(err.message).toMatch(p)
  return err
}

function f16(bits: number): number {
  const exp = (bits >> 10) & 0x1f
  const frac = bits & 0x3ff
  const sign = bits & 0x8000 ? -1 : 1
  if (exp === 0) return sign * frac * 2 ** -24
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY
  return sign * (1 + frac / 1024) * 2 ** (exp - 15)
}

function f8e4m3(bits: number): number {
  const exp = (bits >> 3) & 0xf
  const frac = bits & 7
  const sign = bits & 0x80 ? -1 : 1
  if (exp === 0) return sign * frac * 2 ** -9
  if (exp === 15 && frac === 7) return Number.NaN
  return sign * (1 + frac / 8) * 2 ** (exp - 7)
}

/** The first `count` elements of little-endian decoded bytes, as JS numbers (tests only). */
export function decodeValues(
  bytes: Uint8Array,
  dtype: string,
  count: number,
): Array<number | boolean> {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length)
  const size =
    { F64: 8, I64: 8, U64: 8, F32: 4, I32: 4, U32: 4, F16: 2, BF16: 2, I16: 2, U16: 2 }[dtype] ?? 1
  const out: Array<number | boolean> = []
  for (let i = 0; i < Math.min(count, bytes.length / size); i++) {
    const at = i * size
    const read: Record<string, () => number | boolean> = {
      F64: () => v.getFloat64(at, true),
      F32: () => v.getFloat32(at, true),
      F16: () => f16(v.getUint16(at, true)),
      BF16: () =>
        new Float32Array(new Uint32Array([v.getUint16(at, true) << 16]).buffer)[0] as number,
      F8_E4M3: () => f8e4m3(v.getUint8(at)),
      I64: () => Number(v.getBigInt64(at, true)),
      U64: () => Number(v.getBigUint64(at, true)),
      I32: () => v.getInt32(at, true),
      U32: () => v.getUint32(at, true),
      I16: () => v.getInt16(at, true),
      U16: () => v.getUint16(at, true),
      I8: () => v.getInt8(at),
      U8: () => v.getUint8(at),
      BOOL: () => v.getUint8(at) !== 0,
    }
    out.push((read[dtype] as () => number | boolean)())
  }
  return out
}

/** Element order reversed (elements of `item` bytes): the replacement gen-fixtures.py verified. */
export function reverseItems(bytes: Uint8Array, item: number): Buffer {
  const out = Buffer.alloc(bytes.length)
  const n = bytes.length / item
  for (let i = 0; i < n; i++) out.set(bytes.subarray(i * item, (i + 1) * item), (n - 1 - i) * item)
  return out
}
