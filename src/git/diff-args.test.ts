import { describe, expect, it } from 'vitest'
import { parseDriverArgs } from './diff-args.ts'

describe("git's external diff arguments", () => {
  it('give both sides, and the new path of a rename', () => {
    const args = ['a.bin', '/tmp/x', '1111', '100644', 'a.bin', '0000', '100644']
    expect(parseDriverArgs(args)).toEqual({
      path: 'a.bin',
      to: 'a.bin',
      sides: {
        old: { path: 'a.bin', file: '/tmp/x', hex: '1111' },
        new: { path: 'a.bin', file: 'a.bin', hex: '0000' },
      },
    })
    const renamed = parseDriverArgs([...args, 'b.bin', 'similarity index 90%'])
    expect(renamed.to).toBe('b.bin')
    expect(renamed.sides?.new.path).toBe('b.bin')
  })

  it('are the path alone for an unmerged file', () => {
    expect(parseDriverArgs(['a.bin'])).toEqual({ path: 'a.bin', to: 'a.bin', sides: undefined })
  })
})
