import { resolve } from 'node:path'
import { MlvcError } from '../../core/index.ts'
import {
  type ExpRepo,
  findExpRepoRoot,
  openExpRepo,
  storageRoots,
} from '../../experiments/index.ts'
import type { Store } from '../../store/index.ts'
import { type RepoContext, repoContext, withRepoStore } from '../context.ts'
import type { Io } from '../io.ts'
import { quote } from '../text.ts'

export interface RepoOption {
  /** --repo DIR */
  repo?: string | undefined
}

export interface ExpContext {
  repo: ExpRepo
  ctx: RepoContext
}

/**
 * The experiment repository a command works on: --repo, else $DBX_REPO (as dbxlogger), else the
 * nearest folder at or above the working directory that holds `.dbx/`. The machine's named storage
 * roots come from mlvc config (`experiments.roots`).
 */
export async function openExpContext(io: Io, options: RepoOption): Promise<ExpContext> {
  const ctx = await repoContext(io.cwd)
  const roots = storageRoots(ctx.config)
  const given = options.repo ?? process.env.DBX_REPO
  const dir = given ? resolve(io.cwd, given) : findExpRepoRoot(io.cwd)
  if (dir === undefined) {
    throw new MlvcError('NOT_A_REPO', `no experiment repository (.dbx/) in ${io.cwd} or above`, {
      hint: 'run mlvc exp init, pass --repo DIR, or set DBX_REPO',
    })
  }
  return { repo: await openExpRepo(dir, { roots }), ctx }
}

/** The machine's named storage roots, from the mlvc config seen from the working directory. */
export async function machineRoots(io: Io): Promise<Record<string, string>> {
  return storageRoots((await repoContext(io.cwd)).config)
}

/**
 * Runs `task` with the mlvc store when the experiment repository sits inside a Git work tree (so
 * RepoFiles are also kept there), else with no store.
 */
export async function withOptionalStore<T>(
  { repo, ctx }: ExpContext,
  task: (store: Store | undefined) => Promise<T>,
): Promise<T> {
  const top = ctx.git?.workTree
  if (top === undefined || !(repo.root === top || repo.root.startsWith(`${top}/`))) {
    return task(undefined)
  }
  return withRepoStore(ctx, task)
}

/** Warnings for problems met while reading (one line each). */
export function warnProblems(
  io: Io,
  problems: ReadonlyArray<{ path: string; message: string }>,
): void {
  for (const p of problems) {
    io.warn(`warning: ${p.message.includes(p.path) ? p.message : `${quote(p.path)}: ${p.message}`}`)
  }
}
