import { fc, test as propTest } from '@fast-check/vitest'
import { describe, expect, test } from 'vitest'
import { isMlvcError } from '../core/index.ts'
import { dtypeSize } from '../formats/index.ts'
import { decode } from './codec.ts'
import { encode } from './encode.ts'
import { applyLowRank } from './lowrank-apply.ts'
import { lowRankDelta } from './lowrank-encode.ts'
import { isLowRankPatch, type LowRankDType, parseLowRank } from './lowrank-format.ts'
import {
  concat,
  equalBytes,
  fixture,
  fixtureJSON,
  pieces,
  randomValues,
} from './test-helpers/index.ts'

interface Merge {
  dtype: LowRankDType
  rows: number
  cols: number
  rank: number
  seed: number
  /** 'exact': W + s·B·A in f64, rounded once; 'f32': B·A accumulated in f32 first, as torch does. */
  arithmetic?: 'exact' | 'f32'
}

/** A base tensor and its merged-LoRA fine-tune, as element bytes. */
function mergedLoRA(m: Merge): { base: Uint8Array; merged: Uint8Array } {
  const { rows, cols, rank, dtype } = m
  const w = Float64Array.from(encodeDecode(dtype, randomValues(rows * cols, m.seed, 0.02)))
  const a = randomValues(rank * cols, m.seed + 1, 1 / Math.sqrt(cols)).map(Math.fround)
  const b = randomValues(rows * rank, m.seed + 2, 0.002).map(Math.fround)
  const merged = new Float64Array(rows * cols)
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let acc = 0
      for (let k = 0; k < rank; k++) {
        const term = (b[i * rank + k] as number) * (a[k * cols + j] as number)
        acc = m.arithmetic === 'f32' ? Math.fround(acc + Math.fround(term)) : acc + term
      }
      merged[i * cols + j] = (w[i * cols + j] as number) + 2 * acc
    }
  }
  return { base: encode(dtype, w), merged: encode(dtype, merged) }
}

function encodeDecode(dtype: LowRankDType, values: Float64Array): Float64Array {
  return decode(dtype, encode(dtype, values))
}

async function rebuild(
  base: Uint8Array,
  patch: Uint8Array,
  cuts: number[] = [],
  options: Parameters<typeof applyLowRank>[2] = {},
): Promise<Uint8Array> {
  return concat(applyLowRank(pieces(base, cuts), patch, options))
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (err) {
    return err
  }
  return undefined
}

describe('lowRankDelta and applyLowRank', () => {
  test.each(['F32', 'BF16', 'F16'] as const)(
    'a merged rank-4 LoRA change of a %s matrix round-trips byte for byte, in far fewer bytes',
    async (dtype) => {
      const shape = { dtype, rows: 96, cols: 160 }
      const { base, merged } = mergedLoRA({ ...shape, rank: 4, seed: 7 })
      const patch = lowRankDelta(base, merged, shape)
      expect(patch).toBeDefined()
      if (!patch) return
      expect(isLowRankPatch(patch)).toBe(true)
      // Factors take 4·4·(96 + 160) bytes; the residual a few bytes per unit of rounding missed.
      expect(patch.length).toBeLessThan(0.3 * merged.length)
      const back = await rebuild(base, patch, [1, 333, 4097, 20000])
      expect(equalBytes(back, merged)).toBe(true)
    },
  )

  test('a merge that accumulated in f32 (as torch does) round-trips too: the residual carries it', async () => {
    const shape = { dtype: 'F32' as const, rows: 128, cols: 128 }
    const { base, merged } = mergedLoRA({ ...shape, rank: 8, seed: 3, arithmetic: 'f32' })
    const patch = lowRankDelta(base, merged, shape)
    expect(patch).toBeDefined()
    if (!patch) return
    expect(patch.length).toBeLessThan(0.5 * merged.length)
    expect(equalBytes(await rebuild(base, patch), merged)).toBe(true)
  })

  test('gives up on a change that is not low rank, and past maxBytes', () => {
    const shape = { dtype: 'F32' as const, rows: 64, cols: 96 }
    const base = encode('F32', randomValues(64 * 96, 1, 0.02))
    const full = encode('F32', randomValues(64 * 96, 2, 0.02))
    expect(lowRankDelta(base, full, shape)).toBeUndefined()
    const { base: b2, merged } = mergedLoRA({ ...shape, rank: 4, seed: 9 })
    const patch = lowRankDelta(b2, merged, shape)
    expect(patch).toBeDefined()
    expect(
      lowRankDelta(b2, merged, { ...shape, maxBytes: (patch?.length ?? 0) - 1 }),
    ).toBeUndefined()
    expect(lowRankDelta(b2, b2, shape)).toBeUndefined()
    expect(lowRankDelta(b2, merged, { ...shape, maxRank: 2 })).toBeUndefined()
  })

  test('non-finite elements are restored by the residual', async () => {
    const shape = { dtype: 'BF16' as const, rows: 64, cols: 80 }
    const { base, merged } = mergedLoRA({ ...shape, rank: 3, seed: 5 })
    // NaN with a payload, +Inf and -0 in the new version; an Inf in the old one.
    merged.set([0x81, 0x7f], 2 * 17)
    merged.set([0x80, 0x7f], 2 * 900)
    merged.set([0x00, 0x80], 2 * 901)
    base.set([0x80, 0xff], 2 * 2000)
    const patch = lowRankDelta(base, merged, shape)
    expect(patch).toBeDefined()
    if (patch) expect(equalBytes(await rebuild(base, patch, [3]), merged)).toBe(true)
  })

  propTest.prop(
    [
      fc.record({
        dtype: fc.constantFrom<LowRankDType>('F32', 'BF16', 'F16'),
        rows: fc.integer({ min: 24, max: 70 }),
        cols: fc.integer({ min: 24, max: 90 }),
        rank: fc.integer({ min: 1, max: 5 }),
        seed: fc.nat(),
        arithmetic: fc.constantFrom<'exact' | 'f32'>('exact', 'f32'),
        edits: fc.array(fc.tuple(fc.nat(), fc.nat(65535)), { maxLength: 20 }),
        cuts: fc.array(fc.nat(), { maxLength: 4 }),
      }),
    ],
    { numRuns: 40 },
  )('whatever it finds rebuilds the new version byte for byte', async (c) => {
    const { base, merged } = mergedLoRA(c)
    const size = dtypeSize(c.dtype)
    for (const [at, bits] of c.edits) {
      const i = (at % (c.rows * c.cols)) * size
      merged[i] = bits & 255
      merged[i + 1] = bits >> 8
    }
    const patch = lowRankDelta(base, merged, c)
    if (patch) expect(equalBytes(await rebuild(base, patch, c.cuts), merged)).toBe(true)
  })
})

describe('applyLowRank on damaged or mismatched deltas', () => {
  const shape = { dtype: 'F32' as const, rows: 48, cols: 64 }
  const { base, merged } = mergedLoRA({ ...shape, rank: 2, seed: 11 })
  const patch = lowRankDelta(base, merged, shape) as Uint8Array

  const cases: Array<[string, () => Promise<unknown>, RegExp]> = [
    ['truncated factors', () => rebuild(base, patch.subarray(0, 100)), /truncated/],
    [
      'truncated residual',
      () => rebuild(base, patch.subarray(0, patch.length - 1)),
      /truncated|left over/,
    ],
    ['bytes after the residual', () => rebuild(base, new Uint8Array([...patch, 0])), /follow/],
    [
      'an old version too short',
      () => rebuild(base.subarray(0, base.length - 4), patch),
      /old version has/,
    ],
    [
      'an old version too long',
      () => rebuild(new Uint8Array([...base, 1, 2, 3, 4]), patch),
      /more than/,
    ],
    ['another dtype', () => rebuild(base, patch, [], { dtype: 'BF16' }), /not BF16/],
    ['another size', () => rebuild(base, patch, [], { size: 12 }), /not 12/],
    [
      'an unknown version',
      () => rebuild(base, Uint8Array.from([...patch.subarray(0, 4), 9, ...patch.subarray(5)])),
      /version 9/,
    ],
    [
      'a rank above the shape',
      () => rebuild(base, Uint8Array.from([0x6d, 0x6c, 0x76, 0x72, 1, 1, 2, 2, 5, 0])),
      /rank 5/,
    ],
  ]
  test.each(cases)('%s: BAD_DELTA naming the tensor', async (_, run, message) => {
    const err = await errorOf(
      (async () => {
        const r = run as () => Promise<unknown>
        return r()
      })(),
    )
    expect(isMlvcError(err, 'BAD_DELTA')).toBe(true)
    expect(String((err as Error).message)).toMatch(message)
  })

  test('a residual record past the last element is refused', async () => {
    // Rank 1 over 2 × 2, one residual record with gap 9.
    const bad = Uint8Array.from([
      0x6d,
      0x6c,
      0x76,
      0x72,
      1,
      1,
      2,
      2,
      1,
      1,
      ...new Uint8Array(16),
      9,
      2,
    ])
    const err = await errorOf(rebuild(new Uint8Array(16), bad, [], { name: 'layer.w' }))
    expect(isMlvcError(err, 'BAD_DELTA')).toBe(true)
    expect((err as Error).message).toMatch(/^layer\.w: .*past element 3/)
  })
})

interface LoRAFixture {
  name: string
  dtype: LowRankDType
  rows: number
  cols: number
  rank: number
}

describe('merged LoRA fixtures written by torch (scripts/gen-lowrank-fixtures.py)', () => {
  const cases = fixtureJSON<LoRAFixture[]>('lowrank.json')
  test.each(cases)(
    '$name: found, under a third of the tensor, rebuilt byte for byte',
    async (c) => {
      const base = fixture(`lowrank-${c.name}-base.bin`)
      const merged = fixture(`lowrank-${c.name}-merged.bin`)
      const patch = lowRankDelta(base, merged, c)
      expect(patch).toBeDefined()
      if (!patch) return
      expect(parseLowRank(patch).factors.rank).toBe(c.rank)
      expect(patch.length).toBeLessThan(merged.length / 3)
      expect(equalBytes(await rebuild(base, patch, [5]), merged)).toBe(true)
    },
  )
})
