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
const STORAGE_HEADER = ['stored as', 'in store']

/**
 * `mlvc inspect`'s table: a dim header, then one line per tensor, figures right-aligned; with
 * storage known (--storage), two more columns after the size: how and what it takes.
 */
export function renderTensorTable(rows: readonly TensorRow[], c: Colors): string[] {
  const withStorage = rows.some((r) => r.storage)
  const header = withStorage
    ? [...HEADER.slice(0, 4), ...STORAGE_HEADER, ...HEADER.slice(4)]
    : HEADER
  const cells = rows.map((r) => {
    const base = rowCells(r)
    if (!withStorage) return base
    const how = r.storage ? [r.storage.kind, formatBytes(r.storage.stored)] : ['', '']
    return [...base.slice(0, 4), ...how, ...base.slice(4)]
  })
  const widths = columnWidths(header, cells)
  const right = withStorage ? new Set([3, 5, 6, 7, 8, 9, 10]) : new Set([3, 4, 5, 6, 7, 8])
  const line = (r: readonly string[]) =>
    `  ${r
      .map((cell, i) =>
        right.has(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0),
      )
      .join('  ')
      .trimEnd()}`
  return [c.dim(line(header)), ...cells.map(line)]
}
