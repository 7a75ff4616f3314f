import { fc, test as propTest } from '@fast-check/vitest'
import { describe, expect, test } from 'vitest'
import { isMlvcError } from '../core/index.ts'
import { encode } from './encode.ts'
import { statsOf, type TensorStats } from './stats.ts'
import { formatNumber, formatStats, statsFromJSON, statsToJSON } from './stats-format.ts'

describe('formatting', () => {
  test.each([
    [-0.001234, '-1.234e-03'],
    [5, '5.000e+00'],
    [0, '0.000e+00'],
    [-0, '0.000e+00'],
    [1e300, '1.000e+300'],
    [123456, '1.235e+05'],
    [9.9996, '1.000e+01'],
    [Number.NaN, 'nan'],
    [Number.POSITIVE_INFINITY, 'inf'],
    [Number.NEGATIVE_INFINITY, '-inf'],
  ])('formatNumber(%s) = %s', (x, text) => {
    expect(formatNumber(x)).toBe(text)
  })

  test('significant digits are configurable', () => {
    expect(formatNumber(Math.PI, 2)).toBe('3.1e+00')
    expect(formatNumber(Math.PI, 7)).toBe('3.141593e+00')
  })

  test('a stub line, with counts only when there are any', () => {
    const stats = statsOf(
      'F32',
      encode('F32', [0.5, -0.25, 0, Number.NaN, Number.NEGATIVE_INFINITY]),
    )
    expect(formatStats(stats)).toBe(
      'mean=8.333e-02 std=3.118e-01 min=-2.500e-01 max=5.000e-01 l2=5.590e-01 zeros=1 nan=1 -inf=1',
    )
    expect(formatStats(statsOf('F16', encode('F16', [1, 2])))).toBe(
      'mean=1.500e+00 std=5.000e-01 min=1.000e+00 max=2.000e+00 l2=2.236e+00',
    )
    expect(formatStats(statsOf('F16', new Uint8Array(0)))).toBe(
      'mean=nan std=nan min=nan max=nan l2=0.000e+00',
    )
  })
})

describe('JSON', () => {
  // JSON has no -0; statistics read back as 0 there.
  const finite = fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => x + 0)
  const statsArb = fc
    .record({
      count: fc.nat(1e9),
      nan: fc.nat(100),
      posInf: fc.nat(100),
      negInf: fc.nat(100),
      zeros: fc.nat(100),
      mean: fc.oneof(finite, fc.constant(Number.NaN)),
      std: fc.oneof(finite, fc.constant(Number.NaN)),
      min: fc.oneof(finite, fc.constant(Number.NaN)),
      max: fc.oneof(finite, fc.constant(Number.NaN)),
      l2: fc.oneof(finite.map(Math.abs), fc.constant(Number.POSITIVE_INFINITY)),
    })
    .map((s): TensorStats => ({ ...s, count: s.count + s.nan + s.posInf + s.negInf + s.zeros }))

  propTest.prop([statsArb])('round-trips through JSON text', (stats) => {
    const text = JSON.stringify(statsToJSON(stats))
    expect(statsFromJSON(JSON.parse(text), 'w')).toEqual(stats)
  })

  test.each([
    ['not an object', 'x'],
    ['a missing count', { mean: 1 }],
    ['a negative count', { ...statsToJSON(statsOf('U8', new Uint8Array(3))), nan: -1 }],
    ['a string mean', { ...statsToJSON(statsOf('U8', new Uint8Array(3))), mean: '1' }],
    ['counts that do not add up', { ...statsToJSON(statsOf('U8', new Uint8Array(3))), zeros: 4 }],
  ])('rejects %s with CORRUPT, naming the tensor', (_name, value) => {
    let error: unknown
    try {
      statsFromJSON(value, 'layers.0.weight')
    } catch (err) {
      error = err
    }
    expect(isMlvcError(error, 'CORRUPT')).toBe(true)
    expect(String(error)).toContain('layers.0.weight')
  })
})
