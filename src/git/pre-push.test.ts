import { describe, expect, it } from 'vitest'
import { parsePrePushInput } from './pre-push.ts'

const Z = '0'.repeat(40)
const a = 'a'.repeat(40)
const b = 'b'.repeat(40)
const c = 'c'.repeat(40)

describe('parsePrePushInput', () => {
  it('takes the pushed commits and what the remote has; deletions and new refs have no sha', () => {
    const input = [
      `refs/heads/main ${a} refs/heads/main ${b}`,
      `refs/heads/new ${c} refs/heads/new ${Z}`,
      `(delete) ${Z} refs/heads/old ${b}`,
      '',
    ].join('\n')
    expect(parsePrePushInput(input)).toEqual({ revs: [a, c], remoteShas: [b] })
  })

  it('has nothing to push for empty input or deletions only', () => {
    expect(parsePrePushInput('')).toEqual({ revs: [], remoteShas: [] })
    expect(parsePrePushInput(`(delete) ${Z} refs/heads/x ${a}\n`)).toEqual({
      revs: [],
      remoteShas: [],
    })
  })
})
