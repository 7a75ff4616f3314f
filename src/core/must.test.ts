import { describe, expect, it } from 'vitest'
import { at, must } from './must.ts'

describe('must and at', () => {
  it('give defined values back, falsy ones included', () => {
    expect(must(0, 'a count')).toBe(0)
    expect(must('', 'a name')).toBe('')
    expect(must(null, 'a value')).toBeNull()
    expect(at(new Float64Array([1.5, 2.5]), 1)).toBe(2.5)
    expect(at(['a', 'b'], 0)).toBe('a')
  })

  it('are INTERNAL errors naming what was missing, with a hint to report it', () => {
    expect(() => must(new Map<string, number>().get('x'), 'the size of x')).toThrow(
      expect.objectContaining({
        code: 'INTERNAL',
        message: 'the size of x is missing',
        hint: expect.stringContaining('report'),
      }),
    )
    expect(() => at(new Uint8Array(2), 2, 'a header byte')).toThrow(
      expect.objectContaining({
        code: 'INTERNAL',
        message: 'a header byte: index 2 of 2 is out of range',
      }),
    )
  })
})
