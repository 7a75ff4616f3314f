import { fc, test as propTest } from '@fast-check/vitest'
import { describe, expect, test } from 'vitest'
import { type DType, dtypeSize } from '../formats/index.ts'
import { compareStats } from './compare-stats.ts'
import { type DiffStats, diffOf, diffTensors } from './diff.ts'
import { formatDiff } from './diff-format.ts'
import { encode } from './encode.ts'
import { statsOf } from './stats.ts'
import { fixture, fixtureJSON, pieces, randomValues } from './test-helpers/index.ts'

interface DiffCase {
  name: string
  dtype: DType
  a: string
  b: string
  expected: Omit<DiffStats, 'cosine'> & { cosine: number | null }
}

const close = (got: number, expected: number) => {
  if (!Number.isFinite(expected)) expect(got).toBe(expected)
  else expect(Math.abs(got - expected)).toBeLessThanOrEqual(1e-12 * Math.abs(expected))
}

describe('diff statistics against NumPy', () => {
  const cases = fixtureJSON<DiffCase[]>('diff.json')
  test.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const a = fixture(c.a)
    const b = fixture(c.b)
    const elements = a.length / dtypeSize(c.dtype)
    for (const got of [
      diffOf(c.dtype, a, b),
      await diffTensors(pieces(a, [1, 4097]), pieces(b, [333]), { dtype: c.dtype, elements }),
    ]) {
      const e = c.expected
      expect(got).toMatchObject({
        count: e.count,
        changed: e.changed,
        nonFinite: e.nonFinite,
        deltaBytes: e.deltaBytes,
        fullBytes: e.fullBytes,
      })
      close(got.changedFraction, e.changedFraction)
      close(got.l2Delta, e.l2Delta)
      close(got.relChange, e.relChange)
      close(got.maxAbsDelta, e.maxAbsDelta)
      if (e.cosine === null) expect(got.cosine).toBeNaN()
      else close(got.cosine, e.cosine)
    }
  })

  test('NaN payload changes and 0 → -0 count as changed without moving the norms', () => {
    const a = new Uint8Array(new Uint32Array([0x7fc00001, 0x00000000, 0x40000000]).buffer)
    const b = new Uint8Array(new Uint32Array([0x7fc00002, 0x80000000, 0x40000000]).buffer)
    expect(diffOf('F32', a, b)).toMatchObject({
      changed: 2,
      nonFinite: 1,
      l2Delta: 0,
      relChange: 0,
      cosine: 1,
    })
  })

  test('a short line for git diff', () => {
    const a = encode('F32', [1, 2, 3, 4])
    const b = encode('F32', [1, 2, 3, 5])
    expect(formatDiff(diffOf('F32', a, b))).toBe(
      'changed=2.500e-01 (1/4) Δl2=1.000e+00 rel=1.826e-01 max=1.000e+00 cos=9.940e-01 delta=14B/16B',
    )
  })

  propTest.prop([fc.nat(30_000), fc.nat(), fc.array(fc.nat(), { maxLength: 6 })])(
    'results do not depend on how the bytes are split',
    async (length, seed, cuts) => {
      const values = [...randomValues(length, seed)]
      const a = encode('BF16', values)
      const b = encode(
        'BF16',
        values.map((v, i) => (i % 3 === 0 ? v * 1.5 : v)),
      )
      const whole = diffOf('BF16', a, b)
      const split = await diffTensors(
        pieces(a, cuts),
        pieces(
          b,
          cuts.map((c) => c * 7),
        ),
        {
          dtype: 'BF16',
          elements: values.length,
        },
      )
      expect(split).toEqual(whole)
    },
    60_000,
  )
})

describe('what two summaries tell without the data', () => {
  const vector = fc.array(fc.double({ min: -100, max: 100, noNaN: true }), {
    minLength: 1,
    maxLength: 300,
  })
  propTest.prop([
    vector,
    fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: 300, maxLength: 300 }),
  ])('the bounds on ‖B − A‖ contain the true value', (as, bs) => {
    const a = encode('F64', as)
    const b = encode('F64', bs.slice(0, as.length))
    const comparison = compareStats(statsOf('F64', a), statsOf('F64', b))
    const truth = diffOf('F64', a, b).l2Delta
    const slack = 1e-9 * (1 + truth)
    expect(comparison.deltaNorm?.min).toBeLessThanOrEqual(truth + slack)
    expect(comparison.deltaNorm?.max).toBeGreaterThanOrEqual(truth - slack)
  })

  test('shifts, ratios and certain changes', () => {
    const a = statsOf('F32', encode('F32', [1, 2, 3, 4]))
    const b = statsOf('F32', encode('F32', [2, 3, 4, 5]))
    const c = compareStats(a, b)
    expect(c).toMatchObject({ changed: true, meanShift: 1, stdRatio: 1 })
    // A pure shift by 1 of 4 elements: ‖Δ‖ = 2 exactly, and both bounds say so.
    expect(c.deltaNorm?.min).toBeCloseTo(2, 12)
    expect(c.deltaNorm?.max).toBeCloseTo(Math.sqrt(4 * (1 + 4 * a.std ** 2)), 12)
    expect(compareStats(a, a)).toMatchObject({ changed: false, meanShift: 0, normChange: 0 })
    const withNaN = statsOf('F32', encode('F32', [1, 2, 3, Number.NaN]))
    expect(compareStats(a, withNaN).deltaNorm).toBeUndefined()
    expect(compareStats(a, withNaN).changed).toBe(true)
  })
})
