import pc from 'picocolors'
import { columnWidths, quote } from '../text.ts'

export interface TableOptions {
  /** Right-align these columns (numbers). */
  right?: ReadonlySet<number> | undefined
  /** Rows to highlight (differing params). */
  highlight?: ReadonlySet<number> | undefined
  /** Longest cell, in characters. @default 48 */
  maxWidth?: number | undefined
}

function clip(s: string, max: number): string {
  const one = s.replace(/\s*\n\s*/g, ' ')
  return one.length > max ? `${one.slice(0, max - 1)}…` : one
}

/**
 * A plain-text table: a bold header, columns padded to their widest cell, two spaces apart. Cells
 * come from experiments' files: each is quoted (`quote`) when it holds control characters.
 */
export function renderTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  options: TableOptions = {},
): string {
  const max = options.maxWidth ?? 48
  const cells = [header, ...rows].map((row) => row.map((c) => clip(quote(c), max)))
  const widths = columnWidths(cells[0] ?? [], cells.slice(1))
  const lines = cells.map((row, r) => {
    const text = row
      .map((c, i) =>
        options.right?.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0),
      )
      .join('  ')
      .trimEnd()
    if (r === 0) return pc.bold(text)
    return options.highlight?.has(r - 1) ? pc.yellow(text) : text
  })
  return lines.join('\n')
}

/** A number for a table: up to 6 significant digits; NaN and infinities spelled out. */
export function formatNumber(v: number | undefined): string {
  if (v === undefined) return ''
  if (Number.isNaN(v)) return 'NaN'
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf'
  if (Number.isInteger(v)) return String(v)
  return String(Number(v.toPrecision(6)))
}
