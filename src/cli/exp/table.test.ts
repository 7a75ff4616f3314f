import { stripVTControlCharacters } from 'node:util'
import { describe, expect, it } from 'vitest'
import { renderTable } from './table.ts'

describe('mlvc exp table', () => {
  it('pads columns to their widest cell, right-aligning numbers', () => {
    const text = renderTable(
      ['step', 'loss'],
      [
        ['1', '2.5'],
        ['10', '0.25'],
      ],
      { right: new Set([0, 1]) },
    )
    // The header is bold where colors are on (picocolors turns them on under CI=true).
    expect(stripVTControlCharacters(text).split('\n')).toEqual([
      'step  loss',
      '   1   2.5',
      '  10  0.25',
    ])
  })

  // The widths were Math.max(...cells.map(…)): one argument per row on the stack.
  it('renders 200,000 rows (exp metrics of a 200k-step run)', () => {
    const rows = Array.from({ length: 200_000 }, (_, i) => [String(i), String(1 / (i + 1))])
    const lines = renderTable(['step', 'loss'], rows).split('\n')
    expect(lines).toHaveLength(200_001)
    expect(lines.at(-1)).toBe('199999  0.000005')
  })
})
