import { chmod, rename, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { ensureDir, fsError, readTextIfExists } from '../core/index.ts'
import { git, runGit } from './exec.ts'

export type ConfigScope = 'local' | 'global' | 'system'

/** How git should start mlvc: absolute paths, so it works whether or not mlvc is on the PATH. */
export interface MlvcCommand {
  node: string
  cli: string
}

/** Quotes for sh, which runs git's filter and driver commands. */
function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`
}

export function commandLine(cmd: MlvcCommand, ...args: string[]): string {
  return [shellQuote(cmd.node), shellQuote(cmd.cli), ...args].join(' ')
}

export function gitConfigEntries(cmd: MlvcCommand): Array<[string, string]> {
  return [
    ['filter.mlvc.process', commandLine(cmd, 'filter-process')],
    ['filter.mlvc.required', 'true'],
    ['merge.mlvc.name', 'mlvc: merge files stored by mlvc'],
    ['merge.mlvc.driver', commandLine(cmd, 'merge-driver', '%O', '%A', '%B', '%P')],
    // An external diff driver, not a textconv: only it sees both versions, so only it can give
    // per-tensor figures (changed fraction, ‖Δ‖, cosine). git diff runs it; git log -p and git
    // show keep showing the stubs (one line per tensor) unless given --ext-diff, which costs
    // nothing, whereas a textconv would make git smudge every historical version first.
    ['diff.mlvc.command', commandLine(cmd, 'diff-driver')],
  ]
}

function scopeFlag(scope: ConfigScope): string {
  return `--${scope}`
}

export async function writeGitConfig(
  cwd: string,
  scope: ConfigScope,
  cmd: MlvcCommand,
): Promise<void> {
  for (const [key, value] of gitConfigEntries(cmd)) {
    await git(['config', scopeFlag(scope), key, value], { cwd })
  }
}

export async function removeGitConfig(cwd: string, scope: ConfigScope): Promise<void> {
  for (const section of ['filter.mlvc', 'merge.mlvc', 'diff.mlvc']) {
    // Exit code 5 or 128: the section was not there.
    await runGit(['config', scopeFlag(scope), '--remove-section', section], { cwd })
  }
}

/** The filter command git will run here, or undefined when mlvc is not installed for this repo. */
export async function installedFilter(cwd: string): Promise<string | undefined> {
  const result = await runGit(['config', '--get', 'filter.mlvc.process'], { cwd })
  return result.code === 0 ? result.stdout.toString().trim() : undefined
}

// ---- hooks ---------------------------------------------------------------------------------------

export const HOOKS = ['pre-push'] as const
const MARKER = '# mlvc hook'
const CHAINED = '.pre-mlvc'

/** The hooks folder git uses for this repository (core.hooksPath aware). */
export async function hooksDir(cwd: string): Promise<string> {
  const path = (await git(['rev-parse', '--git-path', 'hooks'], { cwd })).trim()
  return resolve(cwd, path)
}

function hookScript(name: string, cmd: MlvcCommand): string {
  // pre-push reads the refs from stdin: keep a copy for the chained hook.
  return `#!/bin/sh
${MARKER} (mlvc install). A hook that was here before is kept as ${name}${CHAINED} and runs first.
input=$(mktemp) || exit 1
trap 'rm -f "$input"' EXIT
cat > "$input"
if [ -x "$0${CHAINED}" ]; then "$0${CHAINED}" "$@" < "$input" || exit $?; fi
${commandLine(cmd, 'hook', name)} "$@" < "$input"
`
}

/** Installs mlvc's hooks; an existing foreign hook is renamed and chained, never overwritten. */
export async function installHooks(cwd: string, cmd: MlvcCommand): Promise<string[]> {
  const dir = await hooksDir(cwd)
  await ensureDir(dir)
  const installed: string[] = []
  for (const name of HOOKS) {
    const path = join(dir, name)
    const current = await readTextIfExists(path)
    const script = hookScript(name, cmd)
    if (current === script) continue
    if (current !== undefined && !current.includes(MARKER)) {
      if ((await readTextIfExists(path + CHAINED)) !== undefined) {
        throw fsError(
          new Error(`both ${name} and ${name}${CHAINED} exist`),
          'installing hook',
          path,
        )
      }
      await rename(path, path + CHAINED)
    }
    await writeFile(path, script)
    await chmod(path, 0o755)
    installed.push(name)
  }
  return installed
}

export async function hooksInstalled(cwd: string): Promise<boolean> {
  const dir = await hooksDir(cwd)
  for (const name of HOOKS) {
    if (!(await readTextIfExists(join(dir, name)))?.includes(MARKER)) return false
  }
  return true
}

/** Removes mlvc's hooks and puts chained ones back. */
export async function uninstallHooks(cwd: string): Promise<string[]> {
  const dir = await hooksDir(cwd)
  const removed: string[] = []
  for (const name of HOOKS) {
    const path = join(dir, name)
    if (!(await readTextIfExists(path))?.includes(MARKER)) continue
    await rm(path)
    if ((await readTextIfExists(path + CHAINED)) !== undefined) await rename(path + CHAINED, path)
    removed.push(name)
  }
  return removed
}
