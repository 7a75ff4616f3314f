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

/**
 * Writes blocks to standard output as they come, waiting when the pipe is full. A reader that
 * goes away (EPIPE: `mlvc get ID - | head -c 100`) ends the copy quietly; an error from `blocks`
 * propagates after the bytes before it were written.
 */
export async function writeToStdout(blocks: AsyncIterable<Uint8Array>): Promise<void> {
  const out = process.stdout
  let failed: NodeJS.ErrnoException | undefined
  // Kept for good: a failed write may report again on a later tick.
  out.on('error', (err: NodeJS.ErrnoException) => {
    failed ??= err
  })
  const settled = () =>
    new Promise<void>((done) => {
      const settle = () => {
        out.off('drain', settle)
        out.off('error', settle)
        done()
      }
      out.on('drain', settle)
      out.on('error', settle)
    })
  for await (const block of blocks) {
    if (failed) break
    if (!out.write(block)) await settled()
  }
  if (!failed) await new Promise<void>((done) => out.write('', () => done()))
  if (failed && failed.code !== 'EPIPE') throw failed
}
