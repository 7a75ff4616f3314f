import pc from 'picocolors'
import { describe, expect, test } from 'vitest'
import type { Stub } from '../../git/index.ts'
import { renderReport } from './diff-render.ts'
import type { FileReport } from './diff-report.ts'
import type { FileVersion, Listing } from './diff-sides.ts'
import { changedUnits } from './diff-units.ts'

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

describe('renderReport', () => {
  test('one row per tensor that is not unchanged, exact figures or ranges, and a summary', () => {
    const report: FileReport = {
      path: 'model.safetensors',
      kind: 'checkpoint',
      status: 'modified',
      format: 'safetensors',
      size: { old: 2048, new: 4096 },
      tensors: [
        {
          name: 'w',
          status: 'changed',
          basis: 'data',
          dtypeChanged: false,
          shapeChanged: false,
          old: { dtype: 'F32', shape: [2, 2], stats: null, rounded: false },
          new: { dtype: 'F32', shape: [2, 2], stats: null, rounded: false },
          exact: {
            count: 4,
            changed: 1,
            changedFraction: 0.25,
            l2Delta: 0.5,
            relChange: 0.125,
            maxAbsDelta: 0.5,
            cosine: 0.99,
            nonFinite: 0,
          },
        },
        {
          name: 'v',
          status: 'changed',
          basis: 'content',
          dtypeChanged: false,
          shapeChanged: false,
          old: { dtype: 'F16', shape: [1000], stats: null, rounded: true },
          new: { dtype: 'F16', shape: [1000], stats: null, rounded: true },
          bounds: {
            l2Delta: { min: 0.1, max: 2 },
            relChange: { min: 0.01, max: 0.2 },
            maxAbsDelta: { min: 0.001, max: 1 },
            cosine: { min: -1, max: 1 },
            meanShift: 0,
            normRatio: 1,
            rounded: true,
          },
        },
        {
          name: 'u',
          status: 'unchanged',
          basis: 'content',
          dtypeChanged: false,
          shapeChanged: false,
        },
        {
          name: 'e',
          status: 'added',
          basis: 'layout',
          dtypeChanged: false,
          shapeChanged: false,
          new: { dtype: 'BF16', shape: [3], stats: null, rounded: false },
        },
      ],
      summary: {
        tensors: 4,
        added: 1,
        removed: 0,
        changed: 2,
        unchanged: 1,
        unknown: 0,
        parameters: 1234567,
        parametersChanged: 1004,
        parametersExact: false,
      },
      storedBytes: 3 * 1024,
      storedBytesEstimate: null,
    }
    const lines = renderReport(report, pc.createColors(false))
    expect(lines).toEqual([
      'model.safetensors  modified (safetensors, 2.0 KiB → 4.0 KiB)',
      '           tensor  dtype  shape   changed       ‖Δ‖                  ‖Δ‖/‖A‖              max|Δ|               cos',
      '  changed  w       F32    [2,2]   25.00% (1/4)  5.000e-01            1.250e-01            5.000e-01            9.900e-01',
      '  changed  v       F16    [1000]  ?             1.000e-01…2.000e+00  1.000e-02…2.000e-01  1.000e-03…1.000e+00  -1.000e+00…1.000e+00',
      '  added    e       BF16   [3]',
      '  a…b: bounds from the statistics in the stubs (the data of a side is not here); ? = not known',
      '  2 of 4 tensors changed (1 added, 0 removed, 1 unchanged); at most 1,004 of 1,234,567 parameters changed; 3.0 KiB added to the store',
    ])
  })
})
