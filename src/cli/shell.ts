import { isMlvcError } from '../core/index.ts'
import type { CommandResult, Io } from './io.ts'
import { createProgress } from './progress.ts'
import { safeForTerminal } from './text.ts'

export interface Shell {
  json: boolean
  quiet: boolean
  debug: boolean
  cwd: string
}

/** Exit codes: 0 success, 1 failure, 2 usage, 130 interrupted (as shells report SIGINT). */
function exitCodeFor(err: unknown): number {
  if (!isMlvcError(err)) return 1
  switch (err.code) {
    case 'USAGE':
    case 'BAD_ID':
      return 2
    case 'INTERRUPTED':
      return 130
    default:
      return 1
  }
}

/**
 * One line: what went wrong and where, then what to do. Stack traces only with --debug. Messages
 * name files and tensors: the caller makes the text safe for a terminal.
 */
export function formatError(err: unknown, debug: boolean): string {
  if (debug && err instanceof Error) return err.stack ?? err.message
  if (isMlvcError(err)) return `mlvc: ${err.message}${err.hint ? `\n  hint: ${err.hint}` : ''}`
  return `mlvc: ${err instanceof Error ? err.message : String(err)} (internal error; run with --debug for details)`
}

/**
 * Runs a command: wires Ctrl-C to an AbortSignal (a second Ctrl-C exits at once), renders
 * progress, prints the result as text or JSON, maps errors to one line and an exit code.
 */
/** `mlvc … | head`: the reader went away; stop quietly, as other command-line tools do. */
function quietOnClosedPipe(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0)
    throw err
  })
}

export async function run(
  shell: Shell,
  command: (io: Io) => Promise<CommandResult>,
): Promise<void> {
  const controller = new AbortController()
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130)
    controller.abort()
  }
  process.on('SIGINT', onSigint)
  const progress = createProgress(!shell.quiet)
  const io: Io = {
    cwd: shell.cwd,
    json: shell.json,
    quiet: shell.quiet,
    signal: controller.signal,
    onProgress: progress.onProgress,
    warn(message) {
      if (!shell.quiet) process.stderr.write(`${safeForTerminal(message)}\n`)
    },
  }
  try {
    const result = await command(io)
    progress.stop()
    // Touching process.stdout only when there is something to print keeps it out of the way of
    // the filter process, which speaks pkt-lines on fd 1 itself.
    if (shell.json || result.text) quietOnClosedPipe()
    if (shell.json) process.stdout.write(`${JSON.stringify(result.data, null, 2)}\n`)
    else if (result.text) process.stdout.write(`${safeForTerminal(result.text)}\n`)
    process.exitCode = result.exitCode ?? 0
  } catch (err) {
    progress.stop()
    process.stderr.write(`${safeForTerminal(formatError(err, shell.debug))}\n`)
    process.exitCode = exitCodeFor(err)
  } finally {
    process.off('SIGINT', onSigint)
  }
}
