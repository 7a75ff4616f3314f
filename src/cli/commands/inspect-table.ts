import type { TensorRow } from '../../checkpoint/index.ts'
import { formatNumber } from '../../tensors/index.ts'
import { formatBytes } from '../io.ts'
import { columnWidths, quote } from '../text.ts'
import type { Colors } from './diff-render.ts'

const num = (x: number | null | undefined) =>
  x === null || x === undefined ? '' : formatNumber(x, 4)

function rowCells(r: TensorRow): string[] {
  const s = r.stats
  const counts = s
    ? [
        s.zeros ? `zeros=${s.zeros}` : '',
        s.nan ? `nan=${s.nan}` : '',
        s.posInf ? `+inf=${s.posInf}` : '',
        s.negInf ? `-inf=${s.negInf}` : '',
      ]
    : ['n/a']
  return [
    quote(r.name),
    quote(r.dtype),
    `[${r.shape.join(',')}]`,
    r.bytes === null ? '?' : formatBytes(r.bytes),
    num(s?.mean),
    num(s?.std),
    num(s?.min),
    num(s?.max),
    num(s?.l2),
    counts.filter(Boolean).join(' '),
  ]
}

const HEADER = ['tensor', 'dtype', 'shape', 'size', 'mean', 'std', 'min', 'max', 'l2', '']

/** `mlvc inspect`'s table: a dim header, then one line per tensor, figures right-aligned. */
export function renderTensorTable(rows: readonly TensorRow[], c: Colors): string[] {
  const cells = rows.map(rowCells)
  const widths = columnWidths(HEADER, cells)
  const right = new Set([3, 4, 5, 6, 7, 8])
  const line = (r: readonly string[]) =>
    `  ${r
      .map((cell, i) =>
        right.has(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0),
      )
      .join('  ')
      .trimEnd()}`
  return [c.dim(line(HEADER)), ...cells.map(line)]
}
