import { fc, test as propTest } from '@fast-check/vitest'
import { describe, expect, test } from 'vitest'
import { isMlvcError } from '../core/index.ts'
import type { DType } from '../formats/index.ts'
import { encode } from './encode.ts'
import { createStatsAccumulator, statsOf, type TensorStats, tensorStats } from './stats.ts'
import { statsFromJSON, type TensorStatsJSON } from './stats-format.ts'
import { fixture, fixtureJSON, pieces, randomValues } from './test-helpers/index.ts'

interface StatsCase {
  name: string
  dtype: DType
  file: string
  expected: TensorStatsJSON
}

/**
 * The documented tolerance against NumPy's float64 results: 1e-12 relative for std and l2, and
 * 1e-12 of (|mean| + std) for the mean, whose relative error is unbounded near zero.
 */
function expectCloseStats(got: TensorStats, expected: TensorStats): void {
  for (const key of ['count', 'nan', 'posInf', 'negInf', 'zeros', 'min', 'max'] as const) {
    expect(got[key], key).toEqual(expected[key])
  }
  if (Number.isNaN(expected.mean)) {
    expect(got.mean).toBeNaN()
    expect(got.std).toBeNaN()
  } else {
    const scale = Math.abs(expected.mean) + expected.std
    expect(Math.abs(got.mean - expected.mean), 'mean').toBeLessThanOrEqual(1e-12 * scale)
    expect(Math.abs(got.std - expected.std), 'std').toBeLessThanOrEqual(1e-12 * expected.std)
  }
  expect(Math.abs(got.l2 - expected.l2), 'l2').toBeLessThanOrEqual(1e-12 * expected.l2)
}

const cases = fixtureJSON<StatsCase[]>('stats.json')

describe('statistics against NumPy', () => {
  test.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const data = fixture(c.file)
    const expected = statsFromJSON(c.expected, c.name)
    expectCloseStats(statsOf(c.dtype, data), expected)
    const streamed = await tensorStats(c.dtype, pieces(data, [3, 17, 4099, 9001]))
    expectCloseStats(streamed, expected)
  })

  test('the fixtures cover NaN, infinities, zeros, extremes and empty tensors', () => {
    const all = cases.map((c) => c.expected)
    expect(all.some((s) => s.nan > 0 && s.posInf > 0 && s.negInf > 0 && s.zeros > 0)).toBe(true)
    expect(all.some((s) => s.count === 0)).toBe(true)
    expect(all.some((s) => s.count > 0 && s.mean === null)).toBe(true)
    expect(new Set(cases.map((c) => c.dtype)).size).toBeGreaterThanOrEqual(10)
  })
})

describe('streaming', () => {
  propTest.prop([
    fc.constantFrom<DType>('F32', 'BF16', 'F16', 'I16', 'F64'),
    fc.nat(30_000),
    fc.nat(),
    fc.array(fc.nat(), { maxLength: 10 }),
  ])(
    'results do not depend on how the bytes are split',
    async (dtype, length, seed, cuts) => {
      const values = randomValues(length, seed, 100)
      if (length > 0) values[seed % length] = Number.NaN
      const data = encode(dtype, values)
      const whole = statsOf(dtype, data)
      const split = await tensorStats(dtype, pieces(data, cuts))
      expect(split).toEqual(whole)
    },
    60_000,
  )

  test('a large tensor with a large offset keeps its standard deviation (no cancellation)', () => {
    const n = 300_000
    const values = Float64Array.from({ length: n }, (_, i) => 1e8 + ((i * 7919) % 1000) / 1000)
    const s = statsOf('F64', encode('F64', values))
    let mean = 0
    for (const v of values) mean += v - 1e8
    mean = mean / n
    let m2 = 0
    for (const v of values) m2 += (v - 1e8 - mean) ** 2
    expect(Math.abs(s.mean - (1e8 + mean))).toBeLessThan(1e-6)
    expect(Math.abs(s.std - Math.sqrt(m2 / n))).toBeLessThan(1e-9)
  })

  test('rejects data that ends inside an element', () => {
    const accumulator = createStatsAccumulator('F32')
    accumulator.update(new Uint8Array(7))
    let error: unknown
    try {
      accumulator.result()
    } catch (err) {
      error = err
    }
    expect(isMlvcError(error, 'CORRUPT')).toBe(true)
  })

  test('counts bool and integer tensors', () => {
    const s = statsOf('BOOL', new Uint8Array([1, 0, 0, 1]))
    expect(s).toMatchObject({
      count: 4,
      mean: 0.5,
      std: 0.5,
      min: 0,
      max: 1,
      zeros: 2,
      l2: Math.SQRT2,
    })
    expect(statsOf('I8', new Uint8Array([0xff, 1]))).toMatchObject({ mean: 0, min: -1, max: 1 })
  })
})

test('accumulators reuse the decoding buffers of finished ones: results equal those of a fresh start', () => {
  const tensors = Array.from({ length: 12 }, (_, i) =>
    encode(
      'F32',
      Float64Array.from({ length: 5000 + 3000 * i }, (_, k) => Math.sin(k * (i + 1))),
    ),
  )
  const alone = tensors.map((bytes) => statsOf('F32', bytes))
  // Several open at once, fed in small pieces in turn, finished in another order (their
  // buffers go back to be reused), then the same again with reused buffers.
  for (let round = 0; round < 2; round++) {
    const open = tensors.map(() => createStatsAccumulator('F32'))
    for (let at = 0; at < 160_000; at += 777)
      for (const [i, bytes] of tensors.entries()) open[i]?.update(bytes.subarray(at, at + 777))
    const order = [...tensors.keys()].reverse()
    for (const i of order) expect(open[i]?.result()).toEqual(alone[i])
    expect(open[0]?.result()).toEqual(alone[0])
  }
})
