import type { ResultRow, Status, Target } from './types.ts'

function meets(value: number, target: Target): boolean {
  switch (target.op) {
    case '>=':
      return value >= target.threshold
    case '>':
      return value > target.threshold
    case '<=':
      return value <= target.threshold
    case '<':
      return value < target.threshold
  }
}

/** PASS/FAIL against the row's target; n/a when it has one but no figure; '' without one. */
export function statusOf(row: ResultRow): Status {
  if (!row.target) return ''
  const value = row.target.on === 'ratio' ? row.ratioTo?.value : row.value
  if (value === null || value === undefined) return 'n/a'
  return meets(value, row.target) ? 'PASS' : 'FAIL'
}

export interface Tally {
  pass: number
  fail: number
  na: number
}

export function tally(rows: ResultRow[]): Tally {
  const statuses = rows.map(statusOf)
  return {
    pass: statuses.filter((s) => s === 'PASS').length,
    fail: statuses.filter((s) => s === 'FAIL').length,
    na: statuses.filter((s) => s === 'n/a').length,
  }
}
