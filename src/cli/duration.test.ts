import { describe, expect, test } from 'vitest'
import { isMlvcError } from '../core/index.ts'
import { parseDuration } from './duration.ts'

describe('parseDuration', () => {
  test('numbers with a unit, and a bare 0', () => {
    expect(parseDuration('0', '--grace')).toBe(0)
    expect(parseDuration('250ms', '--grace')).toBe(250)
    expect(parseDuration('90s', '--grace')).toBe(90_000)
    expect(parseDuration('10m', '--grace')).toBe(600_000)
    expect(parseDuration('1.5h', '--grace')).toBe(5_400_000)
    expect(parseDuration('2d', '--grace')).toBe(172_800_000)
  })

  test('anything else is one USAGE error naming the option', () => {
    for (const bad of ['', '10', '-1h', '1w', 'h', '1h30m', 'soon']) {
      let caught: unknown
      try {
        parseDuration(bad, '--grace')
      } catch (err) {
        caught = err
      }
      expect(isMlvcError(caught, 'USAGE'), bad).toBe(true)
      expect((caught as Error).message).toContain(`--grace ${JSON.stringify(bad)}`)
    }
  })
})
