/**
 * Helpers for tests only (not part of the build): temporary folders, deterministic data, and the
 * built CLI run as a real process.
 */
import { type SpawnOptions, spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll } from 'vitest'

export const ROOT = resolve(fileURLToPath(import.meta.url), '../../..')
export const CLI = join(ROOT, 'dist/bundle/cli/main.js')

/** A fresh folder removed after the test file's tests. */
export function tempDir(prefix = 'mlvc-test'): string {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Deterministic pseudo-random bytes (xorshift32), the same on every machine. */
export function pseudoRandomBytes(length: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(length)
  let x = seed >>> 0 || 1
  let i = 0
  for (; i + 4 <= length; i += 4) {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    out.writeUInt32LE(x, i)
  }
  for (; i < length; i++) {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    out[i] = x & 0xff
  }
  return out
}

/**
 * Deterministic values from a normal distribution with mean 0 (Box-Muller over
 * pseudoRandomBytes): `std` 0.02 is what trained transformer weights look like.
 */
export function normalValues(count: number, seed = 1, std = 0.02): Float64Array {
  const bits = new Uint32Array(pseudoRandomBytes(8 * count, seed).buffer.slice(0))
  const out = new Float64Array(count)
  for (let i = 0; i < count; i++) {
    const u = ((bits[2 * i] ?? 0) + 1) / 2 ** 32
    const v = (bits[2 * i + 1] ?? 0) / 2 ** 32
    out[i] = std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }
  return out
}

export function writeRandomFile(path: string, length: number, seed = 1): Buffer {
  const data = pseudoRandomBytes(length, seed)
  writeFileSync(path, data)
  return data
}

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface CliOptions extends SpawnOptions {
  input?: string
}

/** Runs the built CLI (node dist/bundle/cli/main.js) and collects its output. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return runCommand(process.execPath, [CLI, ...args], options)
}

export function runCommand(
  cmd: string,
  args: string[],
  options: CliOptions = {},
): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { ...options, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString()
    })
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    child.on('error', fail)
    child.on('close', (code, signal) => done({ code, signal, stdout, stderr }))
    child.stdin?.end(options.input)
  })
}

/** The one pack file of a store at `root` (tests that damage it). */
export function onlyPack(root: string): string {
  const packs = readdirSync(join(root, 'packs')).filter((f) => f.endsWith('.pack'))
  if (packs.length !== 1) throw new Error(`${root} has ${packs.length} packs, expected one`)
  return join(root, 'packs', packs[0] as string)
}

/** Flips bits of the byte at `at` (from the end when negative); returns the file's bytes before. */
export function damageFile(path: string, at: number, mask = 1): Buffer {
  const original = readFileSync(path)
  const damaged = Buffer.from(original)
  const i = at < 0 ? damaged.length + at : at
  damaged[i] = (damaged[i] as number) ^ mask
  writeFileSync(path, damaged)
  return original
}

/**
 * Runs a command in its own process group and, as soon as `ready()` holds (polled every 2 ms),
 * calls `act` with the group's id once. Resolves when it has exited: whether `act` ran, and stderr;
 * rejects with what `act` threw.
 */
function actWhen(
  command: string,
  args: string[],
  options: SpawnOptions,
  ready: () => boolean,
  act: (group: number) => void,
): Promise<{ acted: boolean; stderr: string }> {
  const child = spawn(command, args, { ...options, detached: true })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  let acted = false
  let failure: unknown
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (!acted && ready()) {
        acted = true
        try {
          act(child.pid as number)
        } catch (err) {
          failure = err
        }
      }
    }, 2)
    child.on('close', () => {
      clearInterval(timer)
      if (failure) reject(failure)
      else resolve({ acted, stderr })
    })
  })
}

/**
 * Runs a command in its own process group and sends the group SIGINT (Ctrl-C) as soon as `ready()`
 * holds (polled every 2 ms). Resolves when it has exited: whether it was interrupted, and stderr.
 */
export async function interruptWhen(
  command: string,
  args: string[],
  options: SpawnOptions,
  ready: () => boolean,
): Promise<{ interrupted: boolean; stderr: string }> {
  const { acted, stderr } = await actWhen(command, args, options, ready, (group) =>
    process.kill(-group, 'SIGINT'),
  )
  return { interrupted: acted, stderr }
}

/**
 * Runs a command in its own process group; as soon as `ready()` holds, stops the whole group
 * (SIGSTOP), runs `meanwhile` (what another process does at that moment: swap a file, …), and lets
 * it go on (SIGCONT). Resolves when it has exited: whether it was paused, and stderr.
 */
export async function pauseWhen(
  command: string,
  args: string[],
  options: SpawnOptions,
  ready: () => boolean,
  meanwhile: () => void,
): Promise<{ paused: boolean; stderr: string }> {
  const { acted, stderr } = await actWhen(command, args, options, ready, (group) => {
    process.kill(-group, 'SIGSTOP')
    try {
      meanwhile()
    } finally {
      process.kill(-group, 'SIGCONT')
    }
  })
  return { paused: acted, stderr }
}

export { type Fault, type FaultProxy, startFaultProxy } from '../../services/fault-proxy.ts'
export { type PostgresServer, startPostgres } from '../../services/postgres.ts'
export { type S3Server, startRgw } from '../../services/rgw.ts'
