import { type ChildProcess, spawn } from 'node:child_process'
import { expect } from 'vitest'
import type { GitSandbox } from '../../test-helpers/git.ts'
import { CLI, type CliResult, runCli, runCommand } from '../../test-helpers/index.ts'

/** A hub running as `mlvc hub serve` in a process of its own (so tests can kill -9 it). */
export interface HubProcess {
  url: string
  data: string
  child: ChildProcess
  /** Everything it logged so far (JSON lines). */
  log(): string
  /** SIGTERM, and waits for the exit. */
  stop(): Promise<void>
  /** SIGKILL, and waits for the exit. */
  kill(): Promise<void>
}

/** Starts `mlvc hub serve --data DATA --listen 127.0.0.1:0` and waits for its "hub listening" line. */
export function startHubProcess(
  data: string,
  options: { args?: string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<HubProcess> {
  const child = spawn(
    process.execPath,
    [CLI, 'hub', 'serve', '--data', data, '--listen', '127.0.0.1:0', ...(options.args ?? [])],
    { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let out = ''
  let err = ''
  const exited = new Promise<void>((done) => child.on('exit', () => done()))
  return new Promise((resolve, reject) => {
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString()
    })
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      const url = /"msg":"hub listening","url":"([^"]+)"/.exec(out)?.[1]
      if (url)
        resolve({
          url,
          data,
          child,
          log: () => out,
          stop: async () => {
            child.kill('SIGTERM')
            await exited
          },
          kill: async () => {
            child.kill('SIGKILL')
            await exited
          },
        })
    })
    child.on('exit', (code) =>
      reject(new Error(`hub exited (${code}) before listening:\n${err}${out}`)),
    )
  })
}

/** `mlvc hub ARGS --data DATA`, which must succeed; its stdout, trimmed. */
export async function hubAdmin(data: string, ...args: string[]): Promise<string> {
  const result: CliResult = await runCli(['hub', ...args, '--data', data])
  expect(result.code, `mlvc hub ${args.join(' ')}\n${result.stderr}`).toBe(0)
  return result.stdout.trim()
}

/** HTTP Basic for a user and token. */
export function basic(user: string, token: string): string {
  return `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`
}

/** `mlvc login URL --user NAME --token-stdin` as a sandbox user. */
export function loginAs(
  user: GitSandbox,
  url: string,
  name: string,
  token: string,
): Promise<CliResult> {
  return runCommand(process.execPath, [CLI, 'login', url, '--user', name, '--token-stdin'], {
    cwd: user.home,
    env: user.env,
    input: `${token}\n`,
  })
}

/** mlvc installed for a sandbox user, logged in to a hub: what every hub test's users need. */
export async function hubUser(
  user: GitSandbox,
  url: string,
  name: string,
  token: string,
): Promise<void> {
  expect((await user.mlvc(user.home, 'install')).code).toBe(0)
  const login = await loginAs(user, url, name, token)
  expect(login.code, login.stderr).toBe(0)
}
