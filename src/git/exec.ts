import { spawn } from 'node:child_process'
import { MlvcError } from '../core/index.ts'

export interface GitOptions {
  cwd: string
  /** Written to git's stdin. */
  input?: string | Uint8Array
  env?: NodeJS.ProcessEnv
  /** Exit codes that are answers, not failures (git diff --quiet: 1). @default [0] */
  okCodes?: number[]
}

export interface GitResult {
  code: number
  stdout: Buffer
  stderr: string
}

/** Runs git and collects its output; never throws for an exit code (see `git`). */
export function runGit(args: readonly string[], options: GitOptions): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (d: Buffer) => out.push(d))
    child.stderr.on('data', (d: Buffer) => err.push(d))
    child.on('error', (e) =>
      reject(
        new MlvcError('GIT', `could not run git: ${e.message}`, {
          cause: e,
          hint: 'install git and make sure it is on the PATH',
        }),
      ),
    )
    child.on('close', (code) =>
      resolve({
        code: code ?? 1,
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err).toString(),
      }),
    )
    child.stdin.on('error', () => undefined)
    child.stdin.end(options.input)
  })
}

/** Runs git; returns stdout as text; a failure becomes a GIT error quoting git's own message. */
export async function git(args: readonly string[], options: GitOptions): Promise<string> {
  const result = await runGit(args, options)
  if (!(options.okCodes ?? [0]).includes(result.code)) {
    const detail = result.stderr.trim().split('\n').at(-1) ?? ''
    throw new MlvcError('GIT', `git ${args[0]} failed in ${options.cwd}: ${detail}`)
  }
  return result.stdout.toString()
}
