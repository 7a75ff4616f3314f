import { describe, expect, test } from 'vitest'
import { alignCurves } from './browse-exp.ts'

describe('alignCurves', () => {
  test('runs that share few x values keep every point, aligned on the union of their x', () => {
    const aligned = alignCurves(
      [
        { id: 'a', x: [1, 2, 3], y: [10, 20, 30] },
        { id: 'b', x: [2, 4], y: [5, 6] },
      ],
      100,
    )
    expect(aligned.x).toEqual([1, 2, 3, 4])
    expect(aligned.runs).toEqual([
      { id: 'a', y: [10, 20, 30, null], total: 3 },
      { id: 'b', y: [null, 5, null, 6], total: 2 },
    ])
  })

  test('100 runs × 10,000 points become 100 × N bucket means on one axis', () => {
    const series = Array.from({ length: 100 }, (_, r) => {
      const x = Array.from({ length: 10_000 }, (_, i) => i + r * 0.5)
      return { id: `r${r}`, x, y: x.map((v) => v * 2) }
    })
    const aligned = alignCurves(series, 1000)
    expect(aligned.x).toHaveLength(1000)
    expect(aligned.runs).toHaveLength(100)
    for (const run of aligned.runs) {
      expect(run.y).toHaveLength(1000)
      expect(run.total).toBe(10_000)
    }
    // y = 2x: a bucket's mean stays on the line near the bucket's centre.
    const first = aligned.runs[0]?.y ?? []
    const mid = first[500] as number
    expect(Math.abs(mid - 2 * (aligned.x[500] as number))).toBeLessThan(2 * 10.5)
    // Run 0 ends at x = 9999, before the axis does (run 99 starts later): its last buckets are empty.
    expect(first.slice(0, 990).every((v) => v !== null)).toBe(true)
    expect(first.at(-1)).toBeNull()
  })

  test('no points: an empty axis', () => {
    expect(alignCurves([{ id: 'a', x: [], y: [] }], 10)).toEqual({
      x: [],
      runs: [{ id: 'a', y: [], total: 0 }],
    })
  })
})
