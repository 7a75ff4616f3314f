import { spawn } from 'node:child_process'
import { appendFile, mkdir, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { MlvcError } from '../core/index.ts'
import type { Runtime } from './spec.ts'

export interface BuildInput {
  runtime: Runtime
  /** The cache key (inputs.ts): one environment per runtime and dependency files. */
  depsHash: string
  /** The dependency files by name (package.json, package-lock.json, requirements.txt). */
  depFiles: ReadonlyMap<string, Buffer>
  /** The environments' folder: ROOT/HASH/ and its log ROOT/HASH.log. */
  root: string
  /** A build that takes longer is stopped and fails. @default 600000 */
  timeoutMs?: number
}

export interface Environment {
  dir: string
  log: string
  /** Built before (by an earlier version): nothing ran. */
  cached: boolean
}

const READY = '.mlvc-ready'

export function environmentPaths(root: string, depsHash: string): { dir: string; log: string } {
  return { dir: join(root, depsHash), log: join(root, `${depsHash}.log`) }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  )
}

/** Runs a build step with its output appended to the log; resolves to the exit status. */
function step(
  command: string,
  args: string[],
  cwd: string,
  log: string,
  timeoutMs: number,
): Promise<number> {
  return new Promise((done) => {
    const child = spawn(command, args, {
      cwd,
      env: {
        ...process.env,
        npm_config_update_notifier: 'false',
        PIP_DISABLE_PIP_VERSION_CHECK: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    let writing = appendFile(log, `$ ${[command, ...args].join(' ')}\n`)
    const write = (d: Buffer) => {
      writing = writing.then(() => appendFile(log, d))
    }
    child.stdout.on('data', write)
    child.stderr.on('data', write)
    child.on('error', (err) => {
      write(Buffer.from(`${err.message}\n`))
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const status = code ?? (signal ? 128 : 1)
      writing
        .then(() => appendFile(log, `[exit ${signal ?? status}]\n`))
        .finally(() => done(status))
    })
  })
}

function failed(what: string, code: number, log: string): MlvcError {
  return new MlvcError(
    'DEPLOYMENT',
    `environment build failed: ${what} exited with status ${code}`,
    {
      hint: `the build log says why (${log}; mlvc deployments logs DEPLOYMENT)`,
    },
  )
}

/** The requirement lines of a requirements.txt (no blank lines, no comments). */
export function requirementLines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
    .filter(Boolean)
}

async function buildNode(
  input: BuildInput,
  dir: string,
  log: string,
  timeoutMs: number,
): Promise<void> {
  const pkg = input.depFiles.get('package.json')
  await writeFile(join(dir, 'package.json'), pkg ?? '{"private":true}\n')
  const lock = input.depFiles.get('package-lock.json')
  if (lock) await writeFile(join(dir, 'package-lock.json'), lock)
  const deps = JSON.parse((pkg ?? '{}').toString('utf8')) as {
    dependencies?: Record<string, string>
  }
  await mkdir(join(dir, 'node_modules'), { recursive: true })
  if (Object.keys(deps.dependencies ?? {}).length === 0) {
    await appendFile(log, 'no dependencies: nothing to install\n')
    return
  }
  const args = lock ? ['ci'] : ['install']
  const code = await step(
    'npm',
    [...args, '--omit=dev', '--no-audit', '--no-fund'],
    dir,
    log,
    timeoutMs,
  )
  if (code !== 0) throw failed(`npm ${args[0]}`, code, log)
}

async function buildPython(
  input: BuildInput,
  dir: string,
  log: string,
  timeoutMs: number,
): Promise<void> {
  const requirements = input.depFiles.get('requirements.txt')?.toString('utf8') ?? ''
  const lines = requirementLines(requirements)
  const venv = ['-m', 'venv', ...(lines.length === 0 ? ['--without-pip'] : []), join(dir, 'venv')]
  const made = await step('python3', venv, dir, log, timeoutMs)
  if (made !== 0) throw failed('python3 -m venv', made, log)
  if (lines.length === 0) {
    await appendFile(log, 'no requirements: nothing to install\n')
    return
  }
  await writeFile(join(dir, 'requirements.txt'), requirements)
  const pip = [
    '-m',
    'pip',
    'install',
    '--no-input',
    '--retries',
    '0',
    '--timeout',
    '10',
    '-r',
    'requirements.txt',
  ]
  const code = await step(join(dir, 'venv', 'bin', 'python3'), pip, dir, log, timeoutMs)
  if (code !== 0) throw failed('pip install -r requirements.txt', code, log)
}

/**
 * Builds (or finds built) the environment of a runtime's dependency files: node_modules by npm for
 * `node`, a venv with pip for `python`, nothing for `onnx`. Environments are cached by the
 * dependency files' hash and never change once ready (a marker file written last says so); a
 * failed build leaves its log and is tried again by the next version that needs it.
 */
export async function buildEnvironment(input: BuildInput): Promise<Environment> {
  const { dir, log } = environmentPaths(input.root, input.depsHash)
  if (await exists(join(dir, READY))) return { dir, log, cached: true }
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  await writeFile(
    log,
    `build of the ${input.runtime} environment ${input.depsHash.slice(0, 12)}, ${new Date().toISOString()}\n`,
  )
  const timeoutMs = input.timeoutMs ?? 600_000
  switch (input.runtime) {
    case 'node':
      await buildNode(input, dir, log, timeoutMs)
      break
    case 'python':
      await buildPython(input, dir, log, timeoutMs)
      break
    case 'onnx':
      await appendFile(log, 'the onnx runtime needs no environment\n')
      break
  }
  await writeFile(join(dir, READY), '')
  await appendFile(log, 'environment ready\n')
  return { dir, log, cached: false }
}
