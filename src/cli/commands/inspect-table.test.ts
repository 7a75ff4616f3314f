import pc from 'picocolors'
import { describe, expect, it } from 'vitest'
import type { TensorRow } from '../../checkpoint/index.ts'
import { renderTensorTable } from './inspect-table.ts'

const plain = pc.createColors(false)

function row(name: string, mean: number): TensorRow {
  const stats = {
    count: 4,
    mean,
    std: 1,
    min: -1,
    max: 1,
    l2: 2,
    nan: 0,
    posInf: 0,
    negInf: 0,
    zeros: 1,
  }
  return {
    name,
    dtype: 'F32',
    shape: [2, 2],
    elements: 4,
    bytes: 16,
    content: null,
    stats,
    rounded: false,
  }
}

describe('mlvc inspect table', () => {
  it('aligns columns to the widest cell', () => {
    const lines = renderTensorTable([row('a', 0.5), row('layers.0.weight', -12.25)], plain)
    expect(lines).toEqual([
      '  tensor           dtype  shape  size        mean        std         min        max         l2',
      '  a                F32    [2,2]  16 B   5.000e-01  1.000e+00  -1.000e+00  1.000e+00  2.000e+00  zeros=1',
      '  layers.0.weight  F32    [2,2]  16 B  -1.225e+01  1.000e+00  -1.000e+00  1.000e+00  2.000e+00  zeros=1',
    ])
  })

  // The column widths were Math.max(h.length, ...cells): one argument per tensor on the stack.
  it('renders 200,000 tensors', () => {
    const rows = Array.from({ length: 200_000 }, (_, i) => row(`t.${i}`, i))
    const lines = renderTensorTable(rows, plain)
    expect(lines).toHaveLength(200_001)
    expect(lines.at(-1)).toMatch(/^ {2}t\.199999 +F32 /)
  })
})
