import { describe, expect, it } from 'vitest'
import {
  COLUMNS,
  formatRange,
  formatValue,
  renderMarkdownTable,
  renderTextTable,
  rowCells,
} from './format.ts'
import { addRatios } from './rows.ts'
import { statusOf } from './targets.ts'
import type { ResultRow } from './types.ts'

const mlvc: ResultRow = {
  scenario: 'put',
  subject: 'mlvc put',
  metric: 'throughput',
  value: 700,
  unit: 'MB/s',
  runs: [650, 700, 720],
  target: { on: 'value', op: '>=', threshold: 600, text: '≥ 600 MB/s', source: 'issue 2' },
}
const lfs: ResultRow = {
  scenario: 'put',
  subject: 'git add (git-lfs)',
  metric: 'throughput',
  value: 84.5,
  unit: 'MB/s',
  runs: [80, 84.5, 86],
  target: { on: 'ratio', op: '>=', threshold: 7, text: 'mlvc ≈7× faster', source: 'issue 2' },
}
const annex: ResultRow = { ...lfs, subject: 'git annex add', value: null, runs: [], note: 'n/a' }

describe('values, ranges and statuses', () => {
  it('formats each unit', () => {
    expect(formatValue(612.4, 'MB/s')).toBe('612 MB/s')
    expect(formatValue(12.71, 's')).toBe('12.7 s')
    expect(formatValue(1.046, 'x')).toBe('1.05×')
    expect(formatValue(2 ** 20, 'B')).toBe('1 MiB')
    expect(formatValue(null, 'MiB')).toBe('not available')
  })
  it('shows a range only for two or more runs', () => {
    expect(formatRange([3.2, 2.9, 3.5], 's')).toBe('2.90–3.50')
    expect(formatRange([3.2], 's')).toBe('—')
  })
  it('computes ratios against the reference and judges targets on them', () => {
    const rows = addRatios([mlvc, lfs, annex], 'mlvc put')
    expect(rows[1]?.ratioTo?.value).toBeCloseTo(700 / 84.5)
    expect(rows.map(statusOf)).toEqual(['PASS', 'PASS', 'n/a'])
    const slow = addRatios([{ ...mlvc, value: 500 }, lfs], 'mlvc put')
    expect(slow.map(statusOf)).toEqual(['FAIL', 'FAIL'])
  })
  it('treats smaller as better for sizes and times', () => {
    const growth = (subject: string, value: number): ResultRow => ({
      scenario: 'dedup',
      subject,
      metric: 'growth',
      value,
      unit: 'B',
      runs: [value],
    })
    const rows = addRatios([growth('mlvc put', 1000), growth('git-lfs', 100_000)], 'mlvc put')
    expect(rows[1]?.ratioTo?.value).toBe(100)
  })
})

describe('tables', () => {
  const body = addRatios([mlvc, lfs, annex], 'mlvc put').map(rowCells)

  it('aligns text columns', () => {
    const text = renderTextTable(COLUMNS, body).split('\n')
    expect(text).toHaveLength(5)
    const start = (line: string) => line.indexOf('throughput')
    expect(new Set([start(text[2] ?? ''), start(text[3] ?? ''), start(text[4] ?? '')]).size).toBe(1)
    expect(text[2]).toContain('650–720')
    expect(text[3]).toContain('8.28×')
    expect(text[4]).toContain('not available')
  })
  it('renders Markdown with escaped pipes', () => {
    const md = renderMarkdownTable(['a', 'b'], [['x|y', 'z']]).split('\n')
    expect(md).toEqual(['| a | b |', '| --- | --- |', '| x\\|y | z |'])
  })
})
