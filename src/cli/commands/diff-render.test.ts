import pc from 'picocolors'
import { describe, expect, it } from 'vitest'
import type { TensorDiff } from '../../checkpoint/index.ts'
import { renderReport } from './diff-render.ts'
import type { FileReport } from './diff-report.ts'

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
