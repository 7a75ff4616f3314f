import pc from 'picocolors'
import { describe, expect, it, test } from 'vitest'
import type { TensorDiff } from '../../checkpoint/index.ts'
import type { FileReport } from '../../git/index.ts'
import { renderReport } from './diff-render.ts'

const plain = pc.createColors(false)

function added(name: string): TensorDiff {
  const side = { dtype: 'F32', shape: [2], stats: null, rounded: false }
  return {
    name,
    status: 'added',
    new: side,
    dtypeChanged: false,
    shapeChanged: false,
    basis: 'layout',
  }
}

function report(tensors: TensorDiff[]): FileReport {
  return {
    path: 'model.safetensors',
    kind: 'checkpoint',
    status: 'modified',
    format: 'safetensors',
    size: { old: 100, new: 200 },
    tensors,
    storedBytes: null,
    storedBytesEstimate: null,
  }
}

describe('mlvc diff report', () => {
  // The table's widths were Math.max(...rows) and its lines went in with lines.push(...table):
  // one argument per tensor on the stack.
  it('renders 200,000 added tensors', () => {
    const tensors = Array.from({ length: 200_000 }, (_, i) => added(`t.${i}`))
    const lines = renderReport(report(tensors), plain)
    expect(lines.filter((l) => /^ {2}added +t\.\d+ +F32 +\[2\]/.test(l))).toHaveLength(200_000)
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
