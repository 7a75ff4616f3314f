import pc from 'picocolors'
import type { Range, TensorDiff } from '../../checkpoint/index.ts'
import { pushAll } from '../../core/index.ts'
import type { FileReport } from '../../git/index.ts'
import { formatNumber } from '../../tensors/index.ts'
import { formatBytes } from '../io.ts'
import { columnWidths, quote } from '../text.ts'

export type Colors = ReturnType<typeof pc.createColors>

/**
 * Colors only for a terminal, never in pipes or files, nor with NO_COLOR. `viaGitPager`: git's
 * diff driver writes into git's pager, which git only starts for a terminal (and sets
 * GIT_PAGER_IN_USE for), and which shows colors as git's own diff output does.
 */
export function terminalColors(viaGitPager = false): Colors {
  const terminal =
    process.stdout.isTTY === true || (viaGitPager && process.env.GIT_PAGER_IN_USE === 'true')
  return pc.createColors(terminal && !process.env.NO_COLOR && process.env.TERM !== 'dumb')
}

const num = (x: number) => formatNumber(x, 4)
const range = (r: Range) => (r.min === r.max ? num(r.min) : `${num(r.min)}…${num(r.max)}`)
const shapeText = (shape: readonly number[]) => `[${shape.join(',')}]`
/** 1,234,567 — without toLocaleString, whose first call loads ICU data (tens of ms). */
export const group = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',')

function percent(fraction: number): string {
  if (fraction === 0) return '0%'
  if (fraction < 0.0001) return '<0.01%'
  return `${(fraction * 100).toFixed(2)}%`
}

/** A delta names how it is stored (`changed (low-rank, rank 16)`); own chunks go unsaid. */
function statusText(d: TensorDiff): string {
  const delta = d.storage?.startsWith('low-rank') || d.storage === 'sparse delta'
  return delta ? `${d.status} (${d.storage})` : d.status
}

function statusCell(d: TensorDiff, c: Colors): string {
  switch (d.status) {
    case 'added':
      return c.green('added')
    case 'removed':
      return c.red('removed')
    case 'changed':
      return c.yellow(statusText(d))
    case 'unchanged':
      return 'unchanged'
    case 'unknown':
      return c.dim('unknown')
  }
}

function layoutCells(d: TensorDiff): [string, string] {
  const a = d.old
  const b = d.new
  const dtype =
    a && b && d.dtypeChanged ? `${quote(a.dtype)}→${quote(b.dtype)}` : quote((b ?? a)?.dtype ?? '')
  const shape =
    a && b && d.shapeChanged
      ? `${shapeText(a.shape)}→${shapeText(b.shape)}`
      : shapeText((b ?? a)?.shape ?? [])
  return [dtype, shape]
}

/** changed, ‖Δ‖, ‖Δ‖/‖A‖, max|Δ|, cos: exact figures, or ranges from the statistics. */
function figureCells(d: TensorDiff): string[] {
  if (d.exact) {
    const e = d.exact
    return [
      `${percent(e.changedFraction)} (${group(e.changed)}/${group(e.count)})`,
      num(e.l2Delta),
      num(e.relChange),
      num(e.maxAbsDelta),
      num(e.cosine),
    ]
  }
  if (d.bounds) {
    const b = d.bounds
    return ['?', range(b.l2Delta), range(b.relChange), range(b.maxAbsDelta), range(b.cosine)]
  }
  if (d.dtypeChanged || d.shapeChanged) return [d.dtypeChanged ? 'dtype' : 'shape', '', '', '', '']
  return d.status === 'changed' || d.status === 'unknown' ? ['?', '', '', '', ''] : []
}

const HEADER = ['', 'tensor', 'dtype', 'shape', 'changed', '‖Δ‖', '‖Δ‖/‖A‖', 'max|Δ|', 'cos']

function table(rows: string[][], plain: string[][], c: Colors): string[] {
  const widths = columnWidths(HEADER, plain)
  const line = (cells: readonly string[], raw: readonly string[]) =>
    `  ${cells
      .map((cell, i) => cell + ' '.repeat((widths[i] ?? 0) - (raw[i] ?? '').length))
      .join('  ')
      .trimEnd()}`
  return [c.dim(line(HEADER, HEADER)), ...rows.map((r, i) => line(r, plain[i] ?? []))]
}

function summaryLine(r: FileReport): string {
  const s = r.summary
  const parts: string[] = []
  if (s) {
    const counts = [`${s.added} added`, `${s.removed} removed`, `${s.unchanged} unchanged`]
    if (s.unknown > 0) counts.push(`${s.unknown} unknown`)
    parts.push(`${s.changed} of ${s.tensors} tensors changed (${counts.join(', ')})`)
    const bound = s.parametersExact ? '' : 'at most '
    parts.push(`${bound}${group(s.parametersChanged)} of ${group(s.parameters)} parameters changed`)
  }
  parts.push(storedText(r))
  return parts.join('; ')
}

function storedText(r: FileReport): string {
  if (r.storedBytes !== null) return `${formatBytes(r.storedBytes)} added to the store`
  if (r.storedBytesEstimate !== null) {
    return `up to ${formatBytes(r.storedBytesEstimate)} of new tensor data to store (from the stubs, before deltas)`
  }
  return 'bytes stored: unknown (not stored yet: git add)'
}

function headline(r: FileReport, c: Colors): string {
  const size = (n: number | null) => (n === null ? '?' : formatBytes(n))
  const sizes =
    r.status === 'modified'
      ? `${size(r.size.old)} → ${size(r.size.new)}`
      : size(r.size.new ?? r.size.old)
  const what = r.kind === 'file' ? 'file' : r.kind === 'sharded' ? `${r.format}, sharded` : r.format
  const shards = r.shards ? `, ${r.shards.new.length || r.shards.old.length} shards` : ''
  return `${c.bold(quote(r.path))}  ${r.status} (${what}${shards}, ${sizes})`
}

/** The per-tensor report of one path: changed, added and removed tensors; unchanged ones counted. */
export function renderReport(r: FileReport, c: Colors): string[] {
  const lines = [headline(r, c)]
  if (r.unavailable !== undefined) {
    lines.push(`  tensors not compared: ${r.unavailable}`)
    return lines
  }
  const shown = (r.tensors ?? []).filter((d) => d.status !== 'unchanged')
  if (shown.length > 0) {
    const plain = shown.map((d) => [
      statusText(d),
      quote(d.name),
      ...layoutCells(d),
      ...figureCells(d),
    ])
    const colored = shown.map((d, i) => [statusCell(d, c), ...(plain[i] ?? []).slice(1)])
    pushAll(lines, table(colored, plain, c))
  }
  if (shown.some((d) => d.bounds && !d.exact)) {
    lines.push(
      c.dim(
        '  a…b: bounds from the statistics in the stubs (the data of a side is not here); ? = not known',
      ),
    )
  }
  if (shown.some((d) => d.status === 'unknown')) {
    lines.push(
      c.dim(
        '  unknown: the new version is not stored yet, and its data was not compared with the old',
      ),
    )
  }
  lines.push(`  ${summaryLine(r)}`)
  return lines
}

export function renderReports(reports: readonly FileReport[], c: Colors): string {
  if (reports.length === 0) return 'no changes in files stored by mlvc'
  return reports.map((r) => renderReport(r, c).join('\n')).join('\n\n')
}
