import { fileURLToPath } from 'node:url'
import { MlvcError } from '../core/index.ts'
import {
  type GitRepo,
  hooksInstalled,
  installedFilter,
  installHooks,
  type MlvcCommand,
} from '../git/index.ts'
import type { RepoContext } from './context.ts'
import type { Io } from './io.ts'

export interface GitContext extends RepoContext {
  git: GitRepo
  workTree: string
}

export function requireGit(ctx: RepoContext): GitContext {
  if (!ctx.git?.workTree) {
    throw new MlvcError('NOT_A_REPO', `${ctx.cwd} is not inside a Git work tree`, {
      hint: 'run this in a Git repository (git init), or use mlvc put/get for files outside Git',
    })
  }
  return { ...ctx, git: ctx.git, workTree: ctx.git.workTree }
}

/** How git and hooks start this mlvc: this Node and this CLI file, by absolute path. */
export function mlvcCommand(): MlvcCommand {
  return { node: process.execPath, cli: fileURLToPath(new URL('./main.js', import.meta.url)) }
}

/**
 * Installs this repository's hooks when they are missing (a warning, not a failure, if it cannot).
 * With the filter set up for the user (mlvc install), a repository gets its hooks from the first
 * mlvc command or filter run in it: a repository whose hook never ran would push raw commits and
 * stubs whose content no remote has.
 */
export async function ensureHooks(ctx: GitContext, io: Io): Promise<void> {
  if (await hooksInstalled(ctx.workTree).catch(() => true)) return
  await installHooks(ctx.workTree, mlvcCommand()).catch((err: unknown) =>
    io.warn(`mlvc: could not install hooks: ${(err as Error).message}`),
  )
}

/** Warns (once per command) when git will not run mlvc's filter in this repository. */
export async function warnIfNotInstalled(ctx: GitContext, io: Io): Promise<boolean> {
  if (await installedFilter(ctx.workTree)) return true
  io.warn(
    'mlvc: mlvc is not installed for this repository: git will store tracked files raw.\n  hint: run mlvc install',
  )
  return false
}
