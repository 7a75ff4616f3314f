import { fc, test as propTest } from '@fast-check/vitest'
import { describe, expect, test } from 'vitest'
import { isMlvcError } from '../core/index.ts'
import { kthLargest, nthLargest } from './select.ts'

/** Runs the selection to the end, feeding the keys in the given chunk sizes on every pass. */
function select(
  keys: number[],
  k: number,
  maxCandidates: number,
  chunk: number,
): { threshold: number; passes: number } {
  const selector = kthLargest(k, keys.length, { maxCandidates })
  const data = Float64Array.from(keys)
  let passes = 0
  while (!selector.done) {
    for (let start = 0; start < data.length; start += chunk) {
      const part = data.slice(start, start + chunk)
      selector.add(part, part.length)
    }
    selector.endPass()
    passes++
    if (passes > 5) throw new Error('too many passes')
  }
  return { threshold: selector.threshold, passes }
}

const key = fc.oneof(
  fc.double({ min: 0, noNaN: true }),
  fc.constantFrom(0, 1, 2 ** -1074, Number.POSITIVE_INFINITY),
  // Keys that share their first 40 bits and differ only in the lowest ones.
  fc.integer({ min: 0, max: 2 ** 20 }).map((low) => 1 + low * 2 ** -52),
)

describe('kthLargest', () => {
  propTest.prop([
    fc.array(key, { minLength: 1, maxLength: 400 }),
    fc.nat(),
    fc.constantFrom(0, 1, 7, 1 << 21),
    fc.integer({ min: 1, max: 64 }),
  ])('finds the exact k-th largest in bounded memory', (keys, kSeed, maxCandidates, chunk) => {
    const k = kSeed % (keys.length + 1)
    const { threshold } = select(keys, k, maxCandidates, chunk)
    const sorted = [...keys].sort((a, b) => b - a)
    if (k === 0) expect(threshold).toBeNaN()
    else expect(threshold).toBe(k === keys.length ? 0 : sorted[k - 1])
    const kept = keys.filter((x) => x >= threshold).length
    expect(kept).toBeGreaterThanOrEqual(k)
    if (k < keys.length)
      expect(keys.filter((x) => x > threshold).length).toBeLessThan(Math.max(k, 1))
  })

  propTest.prop([fc.array(key, { minLength: 1, maxLength: 3000 }), fc.nat()])(
    'nthLargest agrees with a sort',
    (keys, rankSeed) => {
      const rank = 1 + (rankSeed % keys.length)
      const sorted = [...keys].sort((a, b) => b - a)
      expect(nthLargest(Float64Array.from(keys), rank)).toBe(sorted[rank - 1])
    },
  )

  test('nthLargest on many equal keys and on sorted runs', () => {
    const equal = new Float64Array(100_000).fill(0.5)
    equal[77] = 1
    expect(nthLargest(equal.slice(), 1)).toBe(1)
    expect(nthLargest(equal.slice(), 50_000)).toBe(0.5)
    const ascending = Float64Array.from({ length: 100_000 }, (_, i) => i)
    expect(nthLargest(ascending.slice(), 3)).toBe(99_997)
    expect(nthLargest(ascending.reverse(), 100_000)).toBe(0)
  })

  test('one pass for small tensors, two for typical data, more for crowded buckets', () => {
    const keys = Array.from({ length: 100_000 }, (_, i) => Math.abs(Math.sin(i)) * 0.01)
    const sorted = [...keys].sort((a, b) => b - a)
    const threshold = sorted[19_999]
    expect(select(keys, 20_000, 1 << 21, 8192)).toEqual({ threshold, passes: 1 })
    expect(select(keys, 20_000, 1000, 8192)).toEqual({ threshold, passes: 2 })
    expect(select(keys, 20_000, 0, 8192)).toEqual({ threshold, passes: 4 })
  })

  test('rejects impossible ranks and keys that change between passes', () => {
    expect(
      isMlvcError(
        catchError(() => kthLargest(5, 4)),
        'USAGE',
      ),
    ).toBe(true)
    const selector = kthLargest(1, 3, { maxCandidates: 1 })
    selector.add(new Float64Array([1, 2, 3]), 3)
    selector.endPass()
    const changed = () => {
      selector.add(new Float64Array([3, 3, 3]), 3)
      selector.endPass()
    }
    expect(isMlvcError(catchError(changed), 'USAGE')).toBe(true)
  })
})

function catchError(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  return undefined
}
