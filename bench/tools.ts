import { spawnSync } from 'node:child_process'
import { accessSync, constants, existsSync } from 'node:fs'
import { delimiter, join } from 'node:path'

/** Debian packages that provide each external tool. */
const PACKAGES = {
  'git-lfs': 'git-lfs',
  'git-annex': 'git-annex',
  time: 'time',
  git: 'git',
  rclone: 'rclone',
}
type External = keyof typeof PACKAGES

export interface Tools {
  node: string
  /** The built CLI: dist/bundle/cli/main.js (scripts/bundle.mjs). */
  mlvcCli: string
  /** The built limit probe: dist/bench/probe.js. */
  probe: string
  git: string | undefined
  gitLfs: string | undefined
  gitAnnex: string | undefined
  /** The yardstick of the S3 scenarios (not a --peers peer: their targets are ratios to it). */
  rclone: string | undefined
  /** GNU time, for peak RSS. */
  time: string | undefined
  versions: Record<string, string>
}

/** The first executable `name` on the PATH. */
export function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue
    const path = join(dir, name)
    try {
      accessSync(path, constants.X_OK)
      return path
    } catch {}
  }
  return undefined
}

export function installHint(names: string[]): string {
  const packages = names.map((n) => PACKAGES[n as External] ?? n)
  return `apt-get install -y ${packages.join(' ')}`
}

function gnuTime(): string | undefined {
  const path = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined
  if (!path) return undefined
  const out = spawnSync(path, ['--version'], { encoding: 'utf8' })
  return `${out.stdout}${out.stderr}`.includes('GNU') ? path : undefined
}

function findExternal(name: External): string | undefined {
  return name === 'time' ? gnuTime() : which(name)
}

/** As root, tries `apt-get install` (then `apt-get update` and again) for what is missing. */
function tryInstall(missing: External[], log: (message: string) => void): void {
  const isRoot = process.getuid?.() === 0
  const hint = installHint(missing)
  if (!isRoot || !which('apt-get')) {
    log(`missing: ${missing.join(', ')}; install with: ${hint}`)
    return
  }
  log(`missing: ${missing.join(', ')}; running: ${hint}`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  const args = ['install', '-y', ...missing.map((n) => PACKAGES[n])]
  const first = spawnSync('apt-get', args, { stdio: 'ignore', env })
  if (first.status === 0) return
  spawnSync('apt-get', ['update'], { stdio: 'ignore', env })
  spawnSync('apt-get', args, { stdio: 'ignore', env })
}

function version(file: string | undefined, args: string[]): string | undefined {
  if (!file) return undefined
  const out = spawnSync(file, args, { encoding: 'utf8' })
  return out.status === 0 ? out.stdout.trim().split('\n')[0] : undefined
}

function collectVersions(tools: Omit<Tools, 'versions'>): Record<string, string> {
  const versions: Record<string, string> = { node: process.version }
  const entries: Array<[string, string | undefined]> = [
    ['git', version(tools.git, ['--version'])?.replace(/^git version /, '')],
    ['git-lfs', version(tools.gitLfs, ['version'])?.replace(/^git-lfs\/(\S+).*/, '$1')],
    ['git-annex', version(tools.gitAnnex, ['version', '--raw'])],
    ['rclone', version(tools.rclone, ['version'])?.replace(/^rclone v/, '')],
  ]
  for (const [name, v] of entries) versions[name] = v ?? 'not available'
  return versions
}

/** Finds node, the built CLI, git, the peers and GNU time; installs missing ones when root. */
export function findTools(root: string, log: (message: string) => void): Tools {
  const names: External[] = ['git', 'git-lfs', 'git-annex', 'rclone', 'time']
  const missing = names.filter((n) => !findExternal(n))
  if (missing.length > 0) tryInstall(missing, log)
  const still = names.filter((n) => !findExternal(n))
  if (still.length > 0) {
    log(`not available: ${still.join(', ')} (reported as such; install with ${installHint(still)})`)
  }
  const found = {
    node: process.execPath,
    mlvcCli: join(root, 'dist', 'bundle', 'cli', 'main.js'),
    probe: join(root, 'dist', 'bench', 'probe.js'),
    git: findExternal('git'),
    gitLfs: findExternal('git-lfs'),
    gitAnnex: findExternal('git-annex'),
    rclone: findExternal('rclone'),
    time: findExternal('time'),
  }
  return { ...found, versions: collectVersions(found) }
}
