import { describe, expect, it } from 'vitest'
import { ID_ALPHABET, ID_LENGTH } from '../../src/experiments/index.ts'
import { experimentId, experimentParams, stepValues } from './experiments.ts'

describe('generated experiments', () => {
  it('have stable, distinct dbx-style ids', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => experimentId(i))
    expect(new Set(ids).size).toBe(ids.length)
    for (const id of ids.slice(0, 100)) {
      expect(id).toHaveLength(ID_LENGTH)
      expect([...id].every((c) => ID_ALPHABET.includes(c))).toBe(true)
    }
    expect(experimentId(42)).toBe(ids[42])
  })

  it('vary their parameters, so a listing has columns to show', () => {
    const params = [0, 1, 2, 3].map(experimentParams)
    expect(new Set(params.map((p) => p.lr)).size).toBe(4)
    expect(new Set(params.map((p) => p.batch)).size).toBe(3)
  })

  it('log finite, falling losses', () => {
    const losses = [1, 10, 100].map((s) => stepValues(5, s).loss as number)
    expect(losses.every(Number.isFinite)).toBe(true)
    expect(losses[0]).toBeGreaterThan(losses[2] as number)
  })
})
