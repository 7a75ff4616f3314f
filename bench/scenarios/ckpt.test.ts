import { describe, expect, it } from 'vitest'
import { perBytePairs, type Series } from '../measure.ts'
import { SCENARIOS } from './index.ts'

const series = (seconds: number[]): Series => ({ seconds, peakRssMiB: [], samples: [] })

describe('checkpoint scenarios', () => {
  it('are registered for issues 4, 5 and 10', () => {
    const issue = (n: number) => SCENARIOS.filter((s) => s.issue === n).map((s) => s.name)
    expect(issue(4)).toEqual(['ckpt-growth', 'ckpt-add', 'ckpt-diff', 'ckpt-rss'])
    expect(issue(5)).toEqual(['ckpt-merge'])
    expect(issue(10)).toEqual(['ckpt-tensors'])
  })

  it('compare add times per byte, pair by pair', () => {
    const checkpoint = series([2, 3, 4])
    const generic = series([2, 2, 2])
    expect(perBytePairs(checkpoint, 100, generic, 100)).toEqual([1, 1.5, 2])
    expect(perBytePairs(checkpoint, 200, generic, 100)).toEqual([0.5, 0.75, 1])
  })
})
