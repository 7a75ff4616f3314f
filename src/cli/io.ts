import type { ProgressHandler } from '../core/index.ts'

/** What every command gets from the CLI shell. Commands return data; only the shell prints. */
export interface Io {
  cwd: string
  json: boolean
  quiet: boolean
  signal: AbortSignal
  /** Renders progress on a TTY; undefined when nothing should be shown. */
  onProgress: ProgressHandler | undefined
  /** A warning for stderr (suppressed by --quiet). */
  warn(message: string): void
}

export interface CommandResult {
  /** Printed as JSON with --json. */
  data: unknown
  /** Printed otherwise (unless empty). */
  text: string
  /** @default 0 */
  exitCode?: number
}

/** Formats a byte count for people: 1.5 GiB, 320 KiB. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = n
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`
}
