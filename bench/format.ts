import { maxOf } from '../src/core/index.ts'
import { formatSize } from './sizes.ts'
import { range } from './stats.ts'
import { statusOf } from './targets.ts'
import type { ResultRow, Unit } from './types.ts'

function digits(value: number): number {
  const abs = Math.abs(value)
  return abs >= 100 ? 0 : abs >= 10 ? 1 : 2
}

/** A figure without its unit (bytes keep theirs: 1.02 MiB). */
export function formatNumber(value: number, unit: Unit): string {
  switch (unit) {
    case 'B':
      return formatSize(value)
    case 'x':
      return `${value.toFixed(2)}×`
    case 'MB/s':
    case 's':
    case 'ms':
    case 'req/s':
    case 'MiB':
      return value.toFixed(digits(value))
  }
}

/** A figure with its unit: "612 MB/s", "12.7 s", "1.02 MiB", "1.04×". */
export function formatValue(value: number | null, unit: Unit): string {
  if (value === null) return 'not available'
  if (unit === 'B' || unit === 'x') return formatNumber(value, unit)
  return `${formatNumber(value, unit)} ${unit}`
}

/** "min–max" of the runs, or "—" for fewer than two. */
export function formatRange(runs: readonly number[], unit: Unit): string {
  if (runs.length < 2) return '—'
  const { min, max } = range(runs)
  return `${formatNumber(min, unit)}–${formatNumber(max, unit)}`
}

export const COLUMNS = [
  'subject',
  'metric',
  'median',
  'range',
  'runs',
  'vs mlvc',
  'target',
  'status',
  'note',
] as const

/** A row as table cells, in COLUMNS order. "vs mlvc" reads "7.10×": mlvc is 7.1× better. */
export function rowCells(row: ResultRow): string[] {
  const ratio = row.ratioTo ? `${row.ratioTo.value.toFixed(2)}×` : ''
  const target = row.target ? `${row.target.text} (${row.target.source})` : ''
  return [
    row.subject,
    row.metric,
    formatValue(row.value, row.unit),
    formatRange(row.runs, row.unit),
    String(row.runs.length),
    ratio,
    target,
    statusOf(row),
    row.note ?? '',
  ]
}

/** A plain-text table with aligned columns (display width by code points). */
export function renderTextTable(header: readonly string[], body: string[][]): string {
  const width = (s: string) => [...s].length
  const widths = header.map((h, i) => Math.max(width(h), maxOf(body.map((r) => width(r[i] ?? '')))))
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c + ' '.repeat((widths[i] ?? 0) - width(c)))
      .join('  ')
      .trimEnd()
  const rule = widths.map((w) => '-'.repeat(w)).join('  ')
  return [line(header), rule, ...body.map(line)].join('\n')
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}

export function renderMarkdownTable(header: readonly string[], body: string[][]): string {
  const line = (cells: readonly string[]) => `| ${cells.map(escapeCell).join(' | ')} |`
  return [line(header), line(header.map(() => '---')), ...body.map(line)].join('\n')
}
