import { describe, expect, it } from 'vitest'
import { mapConcurrent } from './pool.ts'

const tick = () => new Promise((resolve) => setImmediate(resolve))

describe('mapConcurrent', () => {
  it('returns results in input order with at most `concurrency` calls in flight', async () => {
    let running = 0
    let peak = 0
    const out = await mapConcurrent([5, 1, 4, 2, 3], 2, async (n, i) => {
      running++
      peak = Math.max(peak, running)
      for (let k = 0; k < n; k++) await tick()
      running--
      return n * 10 + i
    })
    expect(out).toEqual([50, 11, 42, 23, 34])
    expect(peak).toBe(2)
  })

  it('stops starting calls after the first failure and rethrows it once the others settle', async () => {
    const started: number[] = []
    let settled = 0
    const run = mapConcurrent([0, 1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n)
      await tick()
      if (n === 1) throw new Error('one failed')
      await tick()
      settled++
      return n
    })
    await expect(run).rejects.toThrow('one failed')
    expect(started).toEqual([0, 1])
    expect(settled).toBe(1)
  })

  it('handles no items and a concurrency below one', async () => {
    expect(await mapConcurrent([], 4, async () => 1)).toEqual([])
    expect(await mapConcurrent([1, 2], 0, async (n) => n)).toEqual([1, 2])
  })
})
