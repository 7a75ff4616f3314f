import { describe, expect, it } from 'vitest'
import { statusOf } from '../targets.ts'
import type { ResultRow } from '../types.ts'
import { ADD_TARGET } from './git-add.ts'
import { ONE_FILE_TARGET } from './git-clone.ts'
import { SCENARIOS } from './index.ts'

const GIB_MB = 2 ** 30 / 1e6

describe('issue 3 targets restated as throughputs', () => {
  it('git add: 1 GiB in 2.5 s, the stricter of 13 s / 5 and 5 s / 2', () => {
    expect(ADD_TARGET.threshold).toBe(Math.round(GIB_MB / 2.5))
    expect(ADD_TARGET.text).toContain('2.5 s')
  })

  it('clone of one file: 1 GiB in 5.5 s (11 s / 2)', () => {
    expect(ONE_FILE_TARGET.threshold).toBe(Math.round(GIB_MB / 5.5))
  })

  it('are judged on the measured value', () => {
    const row = (value: number): ResultRow => ({
      scenario: 'git-add',
      subject: 'git add (mlvc)',
      metric: 'throughput',
      unit: 'MB/s',
      runs: [value],
      value,
      target: ADD_TARGET,
    })
    expect(statusOf(row(500))).toBe('PASS')
    expect(statusOf(row(300))).toBe('FAIL')
  })
})

describe('the registry', () => {
  it('holds the scenarios of issues 3 and 6, each once', () => {
    const names = SCENARIOS.map((s) => s.name)
    expect(new Set(names).size).toBe(names.length)
    const issue = (n: number) => SCENARIOS.filter((s) => s.issue === n).map((s) => s.name)
    expect(issue(3)).toEqual(
      expect.arrayContaining([
        'git-add',
        'git-status-touch',
        'git-checkout',
        'git-clone',
        'git-remote-growth',
      ]),
    )
    expect(issue(6)).toEqual(['exp-list', 'exp-sync'])
  })
})
