import { describe, expect, test } from 'vitest'
import type { FileVersion, Listing } from './diff-sides.ts'
import { changedUnits } from './diff-units.ts'
import type { Stub } from './stub.ts'

const stub = (id: string): Stub => ({ size: 1, sha256: '0'.repeat(64), id })
const file = (path: string, id: string): [string, FileVersion] => [path, { path, stub: stub(id) }]

function listing(files: Array<[string, FileVersion]>, indexes: Record<string, string[]> = {}) {
  return { files: new Map(files), indexes: new Map(Object.entries(indexes)) } satisfies Listing
}

describe('changedUnits', () => {
  test('unchanged files drop out; added, removed and modified ones stay, sorted', () => {
    const old = listing([file('b.st', 'x'), file('a.st', 'y'), file('gone.st', 'z')])
    const next = listing([file('b.st', 'x'), file('a.st', 'y2'), file('new.st', 'w')])
    const units = changedUnits(old, next)
    expect(units.map((u) => [u.path, u.old.length, u.new.length])).toEqual([
      ['a.st', 1, 1],
      ['gone.st', 1, 0],
      ['new.st', 0, 1],
    ])
  })

  test('the shards of an index are one unit, also when the index is new; pathspecs select', () => {
    const shards = ['m/s1.st', 'm/s2.st']
    const old = listing([file('m/s1.st', 'a'), file('m/s2.st', 'b'), file('other.st', 'o')])
    const next = listing([file('m/s1.st', 'a'), file('m/s2.st', 'c'), file('other.st', 'o2')], {
      'm/model.index.json': shards,
    })
    const units = changedUnits(old, next)
    expect(units.map((u) => u.path)).toEqual(['m/model.index.json', 'other.st'])
    expect(units[0]).toMatchObject({ sharded: true })
    expect(units[0]?.old.map((v) => v.path)).toEqual(shards)
    expect(changedUnits(old, next, ['m/s2.st']).map((u) => u.path)).toEqual(['m/model.index.json'])
    expect(changedUnits(old, next, ['m']).map((u) => u.path)).toEqual(['m/model.index.json'])
    expect(changedUnits(old, next, ['other.st/']).map((u) => u.path)).toEqual([])
  })

  test('a work-tree file without a stub (not stored yet) always counts as changed', () => {
    const old = listing([file('a.st', 'x')])
    const next = listing([['a.st', { path: 'a.st', file: '/w/a.st' }]])
    expect(changedUnits(old, next)).toHaveLength(1)
  })
})
