import { describe, expect, it } from 'vitest'
import { maxOf, minOf, pushAll } from './arrays.ts'

describe('array helpers for input-sized arrays', () => {
  const big = Array.from({ length: 1_000_000 }, (_, i) => (i * 7919) % 1_000_003)

  it('append a million items in order', () => {
    const out = pushAll([-1], big)
    expect(out).toHaveLength(1_000_001)
    expect(out[1]).toBe(big[0])
    expect(out.at(-1)).toBe(big.at(-1))
  })

  it('find the extremes of a million values', () => {
    expect(maxOf(big)).toBe(big.reduce((a, b) => Math.max(a, b)))
    expect(minOf(big)).toBe(0)
  })

  it('give the empty value for no values, and skip NaN', () => {
    expect(maxOf([])).toBe(Number.NEGATIVE_INFINITY)
    expect(minOf([], 0)).toBe(0)
    expect(maxOf([Number.NaN, 2, Number.NaN, 5, 3])).toBe(5)
    expect(minOf([Number.NaN, 2, -1])).toBe(-1)
    expect(maxOf([Number.NaN], 7)).toBe(7)
  })
})
