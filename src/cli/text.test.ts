import { describe, expect, it } from 'vitest'
import { columnWidths } from './text.ts'

describe('columnWidths', () => {
  it('takes the longest cell per column, header included', () => {
    expect(columnWidths(['a', 'bbb'], [['xx', 'y'], ['z'], ['q', 'r', 'ignored']])).toEqual([2, 3])
  })
})
