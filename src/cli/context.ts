import { existsSync } from 'node:fs'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import {
  expandHome,
  isMlvcError,
  type LoadedConfig,
  loadConfig,
  MlvcError,
  readSetting,
} from '../core/index.ts'
import { findGitRepo, type GitRepo } from '../git/index.ts'
import { openStore, type Store } from '../store/index.ts'

/** Where a command runs: the repository (Git, or a plain folder with .mlvc/), its config and store. */
export interface RepoContext {
  cwd: string
  git: GitRepo | undefined
  /** The folder whose .mlvc/ holds the config: the work tree root, or the folder mlvc init made. */
  root: string | undefined
  config: LoadedConfig
  storeDir: string | undefined
  /** How storeDir was chosen, for `mlvc init` and error messages. */
  storeSource: 'env' | 'config' | 'git' | 'folder' | 'none'
}

function findMlvcFolder(start: string): string | undefined {
  let dir = start
  for (;;) {
    if (existsSync(join(dir, '.mlvc'))) return dir
    const parent = dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
}

function expandPath(path: string, base: string): string {
  const expanded = expandHome(path)
  return isAbsolute(expanded) ? expanded : resolve(base, expanded)
}

function chooseStore(
  cwd: string,
  git: GitRepo | undefined,
  root: string | undefined,
  config: LoadedConfig,
): Pick<RepoContext, 'storeDir' | 'storeSource'> {
  const env = process.env.MLVC_STORE
  if (env) return { storeDir: expandPath(env, cwd), storeSource: 'env' }
  const configured = readSetting(config, 'store.path')
  if (configured) return { storeDir: expandPath(configured, root ?? cwd), storeSource: 'config' }
  if (git) return { storeDir: join(git.commonDir, 'mlvc'), storeSource: 'git' }
  if (root) return { storeDir: join(root, '.mlvc', 'store'), storeSource: 'folder' }
  return { storeDir: undefined, storeSource: 'none' }
}

export async function repoContext(cwd: string): Promise<RepoContext> {
  const git = await findGitRepo(cwd)
  const root = git?.workTree ?? findMlvcFolder(cwd)
  const config = await loadConfig({ repoDir: root })
  return { cwd, git, root, config, ...chooseStore(cwd, git, root, config) }
}

/**
 * Opens the repository's store. Inside Git it is created on first use; elsewhere `mlvc init` must
 * have made it.
 */
export async function openRepoStore(ctx: RepoContext): Promise<Store> {
  if (!ctx.storeDir) {
    throw new MlvcError(
      'NOT_A_REPO',
      `${ctx.cwd} is not inside a Git repository or an mlvc folder`,
      {
        hint: 'run mlvc init here, or set MLVC_STORE to a store folder',
      },
    )
  }
  return openStore(ctx.storeDir, {
    create: ctx.storeSource !== 'folder',
    fsync: readSetting(ctx.config, 'store.fsync'),
    compress: readSetting(ctx.config, 'store.compress'),
  })
}

/** The repository's store when it exists (never created), else undefined. */
export async function openExistingStore(ctx: RepoContext): Promise<Store | undefined> {
  if (!ctx.storeDir) return undefined
  return openStore(ctx.storeDir).catch((err: unknown) => {
    if (isMlvcError(err, 'NOT_FOUND')) return undefined
    throw err
  })
}

/**
 * Runs `task` with the repository's store open, then closes it (committing what was written). When
 * the task failed, a failure to close is not allowed to hide the task's own error.
 */
export async function withRepoStore<T>(
  ctx: RepoContext,
  task: (store: Store) => Promise<T>,
): Promise<T> {
  const store = await openRepoStore(ctx)
  let result: T
  try {
    result = await task(store)
  } catch (err) {
    await store.close().catch(() => undefined)
    throw err
  }
  await store.close()
  return result
}
