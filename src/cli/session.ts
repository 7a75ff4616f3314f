import { quote } from '../core/index.ts'
import { type RepoSession, type RepoWarning, repoSession } from '../git/index.ts'
import type { Store } from '../store/index.ts'
import { openExistingStore, openRepoStore } from './context.ts'
import type { Io } from './io.ts'
import type { GitContext } from './repo.ts'

/** A warning from the library, as one line for stderr. */
export function formatWarning(warning: RepoWarning): string {
  switch (warning.kind) {
    case 'bad-stub':
      return `mlvc: ${warning.problem.message}; ${warning.outcome}`
    case 'remote-index-unreadable':
      return `mlvc: ${warning.message}; its objects count as absent`
    case 'merge-fetch-failed':
      return `mlvc: could not fetch the versions of ${quote(warning.path)}: ${warning.message}`
    case 'remote-unchecked':
      return `mlvc: remote not checked: ${warning.message}`
    case 'checkout-fetch-failed':
      return `mlvc: could not fetch from the remote: ${warning.message}`
  }
}

/**
 * Runs `task` with a session on the repository: its store is opened on first use and closed
 * afterwards (committing what was written); warnings go to stderr, progress to the terminal.
 * When the task failed, a failure to close is not allowed to hide the task's own error.
 */
export async function withSession<T>(
  ctx: GitContext,
  io: Io,
  task: (session: RepoSession) => Promise<T>,
): Promise<T> {
  let opened: Promise<Store> | undefined
  let existing: Promise<Store | undefined> | undefined
  const session = repoSession({
    workTree: ctx.workTree,
    gitDir: ctx.git.gitDir,
    store: () => {
      opened ??= openRepoStore(ctx)
      return opened
    },
    existingStore: () => {
      existing ??= openExistingStore(ctx)
      return existing
    },
    signal: io.signal,
    onProgress: io.onProgress,
    onWarning: (warning) => io.warn(formatWarning(warning)),
  })
  const close = async () => {
    await (await existing?.catch(() => undefined))?.close()
    await (await opened?.catch(() => undefined))?.close()
  }
  let result: T
  try {
    result = await task(session)
  } catch (err) {
    await close().catch(() => undefined)
    throw err
  }
  await close()
  return result
}
