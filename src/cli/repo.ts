import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type ConfigTree, loadConfig, MlvcError, mergeConfig } from '../core/index.ts'
import {
  type FoundStub,
  findStubs,
  type GitRepo,
  indexBlobs,
  installedFilter,
  type MlvcCommand,
  openStatCache,
  recheckInIndex,
  runGit,
  type ScanResult,
  writeContentOverStub,
} from '../git/index.ts'
import { chooseRemote, openRemote, type Remote } from '../remote/index.ts'
import { isComplete, type Store } from '../store/index.ts'
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

/** Warns (once per command) when git will not run mlvc's filter in this repository. */
export async function warnIfNotInstalled(ctx: GitContext, io: Io): Promise<boolean> {
  if (await installedFilter(ctx.workTree)) return true
  io.warn(
    'mlvc: mlvc is not installed for this repository: git will store tracked files raw.\n  hint: run mlvc install',
  )
  return false
}

/**
 * The config with the committed `.mlvc/config.yaml` taken from the index when the work tree does not
 * have it yet (during the checkout of a clone, the filter may run before that file is written).
 */
export async function freshConfig(ctx: GitContext): Promise<ConfigTree> {
  const loaded = await loadConfig({ repoDir: ctx.workTree })
  const hasCommitted = loaded.files.some((f) => f.endsWith(join('.mlvc', 'config.yaml')))
  if (hasCommitted) return loaded.tree
  const fromIndex = await runGit(['show', ':.mlvc/config.yaml'], { cwd: ctx.workTree })
  if (fromIndex.code !== 0) return loaded.tree
  const { parse } = await import('yaml')
  const committed = parse(fromIndex.stdout.toString()) as ConfigTree | null
  return committed ? mergeConfig(committed, loaded.tree) : loaded.tree
}

export async function openConfiguredRemote(ctx: GitContext, name?: string): Promise<Remote> {
  return openRemote(chooseRemote(await freshConfig(ctx), name), ctx.workTree)
}

/** The stubs in the index at tracked paths (what the checked-out commit plus staged changes need). */
export async function indexStubs(ctx: GitContext): Promise<Pick<ScanResult, 'stubs' | 'bad'>> {
  const { stubs, bad } = await findStubs(ctx.workTree, await indexBlobs(ctx.workTree))
  return { stubs, bad }
}

export interface MaterializeReport {
  written: string[]
  /** Paths whose content is not in the local store. */
  missing: string[]
  /**
   * Paths not written, and why: a stub that names other content, damaged content, an unsafe
   * path. One such file never stops the others.
   */
  failed: Array<{ path: string; code: string; message: string }>
}

/** Errors that concern one file; any other (a full disk, Ctrl-C) stops the whole command. */
const PER_FILE = new Set(['BAD_STUB', 'CORRUPT', 'MISSING_OBJECT', 'BAD_DELTA', 'UNSAFE_PATH'])

/** Replaces work-tree files that are still stubs with their content, where the store has it. */
export async function materializeWorkTree(
  ctx: GitContext,
  store: Store,
  stubs: FoundStub[],
  io: Io,
): Promise<MaterializeReport> {
  const statCache = await openStatCache(ctx.git.gitDir)
  const report: MaterializeReport = { written: [], missing: [], failed: [] }
  const writer = { workTree: ctx.workTree, gitDir: ctx.git.gitDir, store, statCache }
  const options = { signal: io.signal, onProgress: io.onProgress }
  try {
    for (const { path, stub } of stubs) {
      try {
        if (!(await isComplete(store, stub.id))) report.missing.push(path)
        else if (await writeContentOverStub(writer, path, stub, options)) report.written.push(path)
      } catch (err) {
        if (!(err instanceof MlvcError && PER_FILE.has(err.code))) throw err
        const message = err.message.startsWith(path) ? err.message : `${path}: ${err.message}`
        report.failed.push({ path, code: err.code, message })
      }
    }
  } finally {
    await statCache.save()
    await recheckInIndex(ctx.workTree, report.written)
  }
  return report
}
