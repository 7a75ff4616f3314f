import { join } from 'node:path'
import {
  type LoadedConfig,
  layeredConfig,
  loadConfig,
  type ProgressHandler,
  type ProgressOptions,
  parseConfig,
} from '../core/index.ts'
import { chooseRemote, listRemotes, openRemote, type Remote } from '../remote/index.ts'
import type { Store } from '../store/index.ts'
import { runGit } from './exec.ts'
import type { RepoWarning } from './warnings.ts'

/** A Git work tree: its root, and its own git dir (a linked worktree has one of its own). */
export interface WorkTreeRef {
  workTree: string
  gitDir: string
}

/**
 * What the library's operations on a Git repository work with (pull, push, fetch, status, fsck,
 * merges, diffs). The caller builds it — the CLI from the working directory, a hub from its own
 * configuration — and closes the store if one was opened. Nothing behind it reads the environment, asks a
 * terminal or prints: progress and warnings are typed events for the caller to render.
 */
export interface RepoSession extends WorkTreeRef, ProgressOptions {
  /**
   * The store, opened on first use (an operation that needs none never creates one); the caller
   * closes it when the operation is done.
   */
  store(): Promise<Store>
  /**
   * The store if the repository has one, opened on first use without creating it (a --no-data
   * diff reads tensor tables too long for their stubs from it); the caller closes it.
   */
  existingStore(): Promise<Store | undefined>
  /**
   * The repository's configuration. Read again on each call: during a clone's checkout the
   * committed `.mlvc/config.yaml` appears in the work tree while the filter already runs.
   */
  config(): Promise<LoadedConfig>
  /** Opens the named mlvc remote, or the default one; called only once a remote is needed. */
  openRemote(name?: string): Promise<Remote>
  /** Something skipped or degraded that does not stop the operation (see RepoWarning). */
  onWarning?: ((warning: RepoWarning) => void) | undefined
}

export interface RepoSessionOptions extends WorkTreeRef {
  store: () => Promise<Store>
  /** @default no store */
  existingStore?: () => Promise<Store | undefined>
  signal?: AbortSignal | undefined
  onProgress?: ProgressHandler | undefined
  onWarning?: ((warning: RepoWarning) => void) | undefined
  /** @default readRepoConfig(workTree) */
  config?: () => Promise<LoadedConfig>
  /** @default the remote of that name (or the default one) in `config()` */
  openRemote?: (name?: string) => Promise<Remote>
}

/** A session with the repository's own configuration and remotes unless others are given. */
export function repoSession(options: RepoSessionOptions): RepoSession {
  const { workTree } = options
  const config = options.config ?? (() => readRepoConfig(workTree))
  let detected: Promise<Remote | undefined> | undefined
  const open = async (name?: string) => {
    const loaded = await config()
    // No mlvc remote configured: Git's origin, when it is a hub, is the mlvc remote too.
    if ((name === undefined || name === 'origin') && listRemotes(loaded).length === 0) {
      detected ??= import('./hub-origin.ts').then((m) => m.hubFromGitOrigin(workTree))
      const hub = await detected
      if (hub) return hub
    }
    return openRemote(chooseRemote(loaded, name), workTree)
  }
  return {
    workTree,
    gitDir: options.gitDir,
    store: options.store,
    existingStore: options.existingStore ?? (async () => undefined),
    signal: options.signal,
    onProgress: options.onProgress,
    onWarning: options.onWarning,
    config,
    openRemote: options.openRemote ?? open,
  }
}

/**
 * The configuration seen from a work tree (user, committed, local), with the committed
 * `.mlvc/config.yaml` taken from the index when the work tree does not have it yet: during the
 * checkout of a clone, the filter may run before that file is written.
 */
export async function readRepoConfig(workTree: string): Promise<LoadedConfig> {
  const loaded = await loadConfig({ repoDir: workTree })
  const committedFile = join(workTree, '.mlvc', 'config.yaml')
  if (loaded.layers.some((l) => l.file === committedFile)) return loaded
  const fromIndex = await runGit(['show', ':.mlvc/config.yaml'], { cwd: workTree })
  if (fromIndex.code !== 0) return loaded
  const file = `${committedFile} (in git's index)`
  const committed = { file, tree: parseConfig(fromIndex.stdout.toString(), file) }
  // In its place among the others: above the user's config, below config.local.yaml.
  const localFile = join(workTree, '.mlvc', 'config.local.yaml')
  const local = loaded.layers.findIndex((l) => l.file === localFile)
  const layers = [...loaded.layers]
  layers.splice(local < 0 ? layers.length : local, 0, committed)
  return layeredConfig(layers)
}
