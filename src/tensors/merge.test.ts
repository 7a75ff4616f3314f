import { fc, test as propTest } from '@fast-check/vitest'
import { describe, expect, test } from 'vitest'
import { isMlvcError } from '../core/index.ts'
import { DTYPES, type DType, dtypeSize } from '../formats/index.ts'
import { decode } from './codec.ts'
import { encode } from './encode.ts'
import { type MergeSide, type MergeStrategy, mergeArrays, mergeTensor } from './merge.ts'
import { average, base, ours, taskArithmetic, theirs } from './strategies.ts'
import { concat, equalBytes, fixture, fixtureJSON, pieces } from './test-helpers/index.ts'
import { ties } from './ties.ts'

interface MergeCase {
  dtype: DType
  elements: number
  base: string
  ours: string
  theirs: string
  results: { strategy: 'average' | 'taskArithmetic' | 'ties'; options: object; file: string }[]
}

const FACTORIES = { average, taskArithmetic, ties } as Record<
  string,
  (options: object) => MergeStrategy
>

/** Position of each element's value in the order of all bit patterns (sign-magnitude unfolded). */
function orderedBits(dtype: DType, bytes: Uint8Array): bigint[] {
  const size = dtypeSize(dtype)
  const out: bigint[] = []
  for (let i = 0; i < bytes.length; i += size) {
    let bits = 0n
    for (let j = size - 1; j >= 0; j--) bits = (bits << 8n) | BigInt(bytes[i + j] as number)
    const sign = 1n << BigInt(8 * size - 1)
    out.push(bits & sign ? -(bits & (sign - 1n)) : bits)
  }
  return out
}

/** The largest distance in units in the last place between two tensors' elements. */
function maxUlps(dtype: DType, a: Uint8Array, b: Uint8Array): number {
  const x = orderedBits(dtype, a)
  const y = orderedBits(dtype, b)
  let max = 0n
  x.forEach((v, i) => {
    const d = v - (y[i] as bigint)
    if ((d < 0n ? -d : d) > max) max = d < 0n ? -d : d
  })
  return Number(max)
}

const cases = fixtureJSON<MergeCase[]>('merge.json')

describe('merges against NumPy (within one unit in the last place)', () => {
  const rows = cases.flatMap((c) =>
    c.results.map((r) => [`${c.dtype} ${r.strategy} ${JSON.stringify(r.options)}`, c, r] as const),
  )
  test.each(rows)('%s', async (_name, c, r) => {
    const sides = { base: fixture(c.base), ours: fixture(c.ours), theirs: fixture(c.theirs) }
    const expected = fixture(r.file)
    const strategy = (FACTORIES[r.strategy] as (options: object) => MergeStrategy)(r.options)
    const merged = mergeArrays(strategy, c.dtype, sides)
    expect(maxUlps(c.dtype, merged, expected)).toBeLessThanOrEqual(1)
    // Streamed in odd pieces, with a tiny candidate budget forcing extra TIES passes.
    const streaming = r.strategy === 'ties' ? ties({ ...r.options, maxCandidates: 3 }) : strategy
    const streamed = await concat(
      mergeTensor(streaming, {
        dtype: c.dtype,
        elements: c.elements,
        open: (side: MergeSide) => pieces(sides[side], [7, 301, 1025]),
      }),
    )
    expect(equalBytes(streamed, merged)).toBe(true)
  })

  test('the fixtures exercise ties at the TIES threshold and exact cancellations', () => {
    const c = cases.find((x) => x.dtype === 'BF16') as MergeCase
    const b = [...decode('BF16', fixture(c.base))]
    const o = [...decode('BF16', fixture(c.ours))]
    const t = [...decode('BF16', fixture(c.theirs))]
    const tauO = o.map((v, i) => Math.abs(v - (b[i] as number)))
    const sorted = [...tauO].sort((x, y) => y - x)
    const k = Math.floor(0.2 * c.elements)
    expect(sorted.filter((x) => x === sorted[k - 1]).length).toBeGreaterThan(1)
    const cancels = o.filter((v, i) => {
      const base = b[i] as number
      return v !== base && v - base === -((t[i] as number) - base)
    }).length
    expect(cancels).toBeGreaterThan(5)
  })
})

describe('strategies', () => {
  const intTensor = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])
  test.each(DTYPES.map((d) => [d]))('ours, theirs and base copy bits exactly (%s)', (dtype) => {
    const sides = {
      base: intTensor.map((x) => x + 1),
      ours: intTensor.map((x) => x ^ 0xff),
      theirs: new Uint8Array([0xff, 0x7f, 0xc0, 0x7f, 1, 0, 0x80, 0xff]),
    }
    for (const [strategy, side] of [
      [ours(), 'ours'],
      [theirs(), 'theirs'],
      [base(), 'base'],
    ] as const) {
      expect(strategy.appliesTo(dtype)).toBe(true)
      expect(equalBytes(mergeArrays(strategy, dtype, sides), sides[side])).toBe(true)
    }
  })

  test.each(['I64', 'I32', 'U8', 'BOOL'] as const)(
    'arithmetic strategies refuse %s tensors',
    (dtype) => {
      for (const strategy of [average(), taskArithmetic(), ties()]) {
        expect(strategy.appliesTo(dtype)).toBe(false)
        let error: unknown
        try {
          strategy.begin({ dtype, elements: 4, name: 'embed.ids' })
        } catch (err) {
          error = err
        }
        expect(isMlvcError(error, 'USAGE')).toBe(true)
        expect(String(error)).toContain('embed.ids')
      }
    },
  )

  const floats = fc.array(fc.double({ min: -65504, max: 65504, noNaN: true }), { maxLength: 300 })

  propTest.prop([fc.constantFrom<DType>('F32', 'F16', 'BF16', 'F8_E5M2'), floats])(
    'the average of a tensor with itself is that tensor',
    (dtype, values) => {
      const t = encode(dtype, values)
      expect(equalBytes(mergeArrays(average(), dtype, { ours: t, theirs: t }), t)).toBe(true)
    },
  )

  propTest.prop([floats, floats])(
    'task arithmetic with λ = 1 takes a change made on one side only (F16, exact values)',
    (a, b) => {
      const n = Math.min(a.length, b.length)
      const base = encode('F16', a.slice(0, n))
      const changed = encode('F16', b.slice(0, n))
      const merged = mergeArrays(taskArithmetic(), 'F16', { base, ours: changed, theirs: base })
      // Values, not bits: 0 + (-0 - 0) is +0 in IEEE arithmetic.
      expect([...decode('F16', merged)].every((v, i) => v === decode('F16', changed)[i])).toBe(true)
    },
  )

  propTest.prop([floats, floats, floats, fc.double({ min: 0, max: 1, noNaN: true })])(
    'TIES does not depend on which side is ours',
    (a, b, c, density) => {
      const n = Math.min(a.length, b.length, c.length)
      const [x, y, z] = [a, b, c].map((v) => encode('BF16', v.slice(0, n))) as [
        Uint8Array,
        Uint8Array,
        Uint8Array,
      ]
      const one = mergeArrays(ties({ density }), 'BF16', { base: x, ours: y, theirs: z })
      const other = mergeArrays(ties({ density }), 'BF16', { base: x, ours: z, theirs: y })
      expect(equalBytes(one, other)).toBe(true)
    },
  )

  test('TIES keeps the large changes, drops the small ones, averages agreeing signs', () => {
    const b = encode('F64', [0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    const o = encode('F64', [5, 0.1, 2, -3, 0, 0, 0, 0, 0, 1])
    const t = encode('F64', [3, 0, -9, 3, 0, 0, 0, 0, 0.2, 1])
    const merged = decode(
      'F64',
      mergeArrays(ties({ density: 0.4 }), 'F64', { base: b, ours: o, theirs: t }),
    )
    // Top 4 of |ours|: 5, 3, 2, 1; of |theirs|: 9, 3, 3, 1. Element 2: 2 - 9 < 0 elects -9;
    // element 3: -3 + 3 = 0 cancels exactly; element 9: both keep 1.
    expect([...merged]).toEqual([4, 0, -9, 0, 0, 0, 0, 0, 0, 1])
    const none = mergeArrays(ties({ density: 0 }), 'F64', { base: b, ours: o, theirs: t })
    expect(equalBytes(none, b)).toBe(true)
    const nan = encode('F64', [Number.NaN, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    expect(
      decode('F64', mergeArrays(ties(), 'F64', { base: b, ours: nan, theirs: t }))[0],
    ).toBeNaN()
  })

  test('options are checked', () => {
    const usage = (fn: () => unknown) => {
      try {
        fn()
      } catch (err) {
        return isMlvcError(err, 'USAGE')
      }
      return false
    }
    expect(usage(() => average({ weights: { ours: -1, theirs: 2 } }))).toBe(true)
    expect(usage(() => average({ weights: { ours: 0, theirs: 0 } }))).toBe(true)
    expect(usage(() => taskArithmetic({ lambda: Number.NaN }))).toBe(true)
    expect(usage(() => ties({ density: 1.5 }))).toBe(true)
    expect(usage(() => ties({ lambda: Number.POSITIVE_INFINITY }))).toBe(true)
  })

  test('a stream of the wrong length is CORRUPT and names the side and tensor', async () => {
    const good = new Uint8Array(16)
    const error = await concat(
      mergeTensor(average(), {
        dtype: 'F32',
        elements: 4,
        name: 'lm_head.weight',
        open: (side) => pieces(side === 'theirs' ? good.subarray(0, 12) : good),
      }),
    ).catch((err: unknown) => err)
    expect(isMlvcError(error, 'CORRUPT')).toBe(true)
    expect(String(error)).toContain('theirs of tensor lm_head.weight')
  })
})
