import { describe, expect, it } from 'vitest'
import { parseSample, sampler } from './sample.ts'

function run(text: string, total: number, seed = 1): number[] {
  const pick = sampler(parseSample(text, seed), total, text)
  const out: number[] = []
  for (let i = 0; i < total; i++) if (pick()) out.push(i)
  return out
}

describe('sampled checkout', () => {
  it('range keeps START, START+STEP, … below STOP', () => {
    expect(run('range:2:9:3', 10)).toEqual([2, 5, 8])
    expect(run('range:7:', 10)).toEqual([7, 8, 9])
  })

  it('group keeps A of every B, the same for the same seed, another for another seed', () => {
    const one = run('group:2:5', 23, 7)
    expect(one.filter((i) => i < 20)).toHaveLength(8)
    expect(one.filter((i) => i >= 20)).toHaveLength(2)
    for (let g = 0; g < 4; g++)
      expect(one.filter((i) => i >= g * 5 && i < g * 5 + 5)).toHaveLength(2)
    expect(run('group:2:5', 23, 7)).toEqual(one)
    expect(run('group:2:5', 23, 8)).not.toEqual(one)
  })

  it('random keeps A in B of the files, reproducibly', () => {
    const picked = run('random:1:10', 1000, 3)
    expect(picked).toHaveLength(100)
    expect(run('random:1:10', 1000, 3)).toEqual(picked)
    expect(run('random:1:10', 1000, 4)).not.toEqual(picked)
  })

  it.each([
    ['group:3:2', 10],
    ['group:0:2', 10],
    ['random:1', 10],
    ['range:5:5', 10],
    ['range:1:4:0', 10],
    ['range:10:12', 10],
    ['range:2:11', 10],
    ['range:x:4', 10],
    ['every:1:2', 10],
    ['random:1:2', 0],
  ])('refuses %s over %i files with a USAGE error', (text, total) => {
    expect(() => sampler(parseSample(text), total, text)).toThrow(
      expect.objectContaining({ code: 'USAGE' }),
    )
  })
})
