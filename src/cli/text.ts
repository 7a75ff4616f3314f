// Plain-text rendering shared by the commands. The escaping of text that came from files is
// core's (quote, safeForTerminal): library messages name files the same way.
export { quote, safeForTerminal } from '../core/index.ts'

/** Each column's width: its longest cell, the header's included. Cells beyond the header are ignored. */
export function columnWidths(
  header: readonly string[],
  rows: Iterable<readonly string[]>,
): number[] {
  const widths = header.map((h) => h.length)
  for (const row of rows) {
    for (let i = 0; i < widths.length; i++) {
      const length = row[i]?.length ?? 0
      if (length > (widths[i] ?? 0)) widths[i] = length
    }
  }
  return widths
}
