import { spawn } from 'node:child_process'
import { readFile, rm } from 'node:fs/promises'

/** A process to run: never through a shell, so arguments need no quoting. */
export interface Command {
  file: string
  args: string[]
  cwd?: string
  env?: NodeJS.ProcessEnv
}

export interface Sample {
  /** Wall clock from spawn to exit, measured by the harness (hrtime). */
  seconds: number
  /**
   * Peak resident set size in KiB as GNU time reports it (`%M`, from wait4's rusage): the largest
   * peak of the process and of every descendant it waited for (git's filter processes, node's
   * worker threads live in the process). It is the largest single process, not the sum. Null
   * without GNU time.
   */
  peakRssKiB: number | null
  stdout: string
}

const OUTPUT_LIMIT = 1 << 20

interface Finished {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/**
 * Runs a command to its end. With `interruptWhen`, it runs in its own process group, which gets
 * SIGINT (Ctrl-C) once, as soon as `interruptWhen()` holds (polled every 2 ms).
 */
function collect(
  command: Command,
  interruptWhen?: () => boolean,
): Promise<Finished & { interrupted: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command.file, command.args, {
      cwd: command.cwd,
      env: command.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: interruptWhen !== undefined,
    })
    let interrupted = false
    const poll = interruptWhen
      ? setInterval(() => {
          if (interrupted || child.pid === undefined || !interruptWhen()) return
          interrupted = true
          process.kill(-child.pid, 'SIGINT')
        }, 2)
      : undefined
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      if (stdout.length < OUTPUT_LIMIT) stdout += text
    })
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr = (stderr + text).slice(-OUTPUT_LIMIT)
    })
    child.on('error', (err) => {
      clearInterval(poll)
      reject(err)
    })
    child.on('close', (code, signal) => {
      clearInterval(poll)
      resolve({ code, signal, stdout, stderr, interrupted })
    })
  })
}

export function describe(command: Command): string {
  return [command.file, ...command.args].map((a) => (/[\s'"]/.test(a) ? `'${a}'` : a)).join(' ')
}

function failure(command: Command, done: Finished): Error {
  const how = done.signal ? `signal ${done.signal}` : `exit code ${done.code}`
  const tail = done.stderr.trim().split('\n').slice(-5).join('\n  ')
  return new Error(`${describe(command)} failed (${how})${tail ? `:\n  ${tail}` : ''}`)
}

/** Runs an untimed helper command (setup, versions); returns its stdout, throws on failure. */
export async function exec(command: Command): Promise<string> {
  const done = await collect(command)
  if (done.code !== 0) throw failure(command, done)
  return done.stdout
}

export interface Outcome {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs a helper command whose failure is an answer (a probe); never throws for an exit code. */
export async function tryExec(command: Command): Promise<Outcome> {
  const { code, stdout, stderr } = await collect(command)
  return { code, stdout, stderr }
}

/**
 * Runs a command in its own process group and sends the group SIGINT, as Ctrl-C in a terminal
 * would, as soon as `ready()` holds; never throws for an exit code. `interrupted` is false when
 * the command ended before `ready()` held.
 */
export async function interruptWhen(
  command: Command,
  ready: () => boolean,
): Promise<Outcome & { interrupted: boolean }> {
  const { code, stdout, stderr, interrupted } = await collect(command, ready)
  return { code, stdout, stderr, interrupted }
}

/** GNU time's `-f '%e %M'` output: the last line, "<seconds> <max RSS KiB>". */
export function parseTimeOutput(text: string): number | null {
  const lines = text.trim().split('\n')
  const match = /^\s*[\d.]+\s+(\d+)\s*$/.exec(lines[lines.length - 1] ?? '')
  return match ? Number(match[1]) : null
}

export interface TimedOptions {
  /** GNU time; without it peak RSS is not measured. */
  timeBin: string | undefined
  /** Where GNU time writes its report (a file, so the command's own stderr stays separate). */
  reportPath: string
}

/** Runs a command as a real process: wall clock by the harness, peak RSS by GNU time. */
export async function runTimed(command: Command, options: TimedOptions): Promise<Sample> {
  const wrapped: Command = options.timeBin
    ? {
        ...command,
        file: options.timeBin,
        args: ['-f', '%e %M', '-o', options.reportPath, '--', command.file, ...command.args],
      }
    : command
  const start = process.hrtime.bigint()
  const done = await collect(wrapped)
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  if (done.code !== 0) throw failure(command, done)
  let peakRssKiB: number | null = null
  if (options.timeBin) {
    peakRssKiB = parseTimeOutput(await readFile(options.reportPath, 'utf8'))
    await rm(options.reportPath, { force: true })
  }
  return { seconds, peakRssKiB, stdout: done.stdout }
}
