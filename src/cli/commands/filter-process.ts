import { configBoolean, configValue, MlvcError } from '../../core/index.ts'
import {
  createFilterHandlers,
  hooksInstalled,
  installHooks,
  openStatCache,
  readFd,
  runFilterProtocol,
} from '../../git/index.ts'
import { fetchObjects } from '../../remote/index.ts'
import { repoContext, withRepoStore } from '../context.ts'
import type { CommandResult, Io } from '../io.ts'
import { type GitContext, mlvcCommand, openConfiguredRemote, requireGit } from '../repo.ts'
import { safeForTerminal } from '../text.ts'

const MiB = 1024 * 1024

function inlineLimit(ctx: GitContext): number {
  const value = configValue(ctx.config.tree, 'git.inlineSmudgeLimit')
  if (value === undefined) return 16 * MiB
  if (typeof value !== 'number' || value < 0) {
    throw new MlvcError('BAD_CONFIG', 'git.inlineSmudgeLimit must be a number of bytes')
  }
  return value
}

/**
 * Fetches from the default remote (and replaces damaged objects); a remote that fails counts as
 * "still missing", with a warning.
 */
function fetcher(ctx: GitContext, io: Io, store: import('../../store/index.ts').Store) {
  let warned = false
  const told = new Set<string>()
  return async (ids: string[]): Promise<{ missing: string[]; repaired: number }> => {
    try {
      const remote = await openConfiguredRemote(ctx)
      const report = await fetchObjects(store, remote, ids)
      for (const message of report.unreadable.filter((m) => !told.has(m))) {
        told.add(message)
        io.warn(`mlvc: ${message}; its objects count as absent`)
      }
      return {
        missing: ids.filter((id) => report.missing.includes(id)),
        repaired: report.repaired.length,
      }
    } catch (err) {
      if (!warned) io.warn(`mlvc: could not fetch from the remote: ${(err as Error).message}`)
      warned = true
      return { missing: ids, repaired: 0 }
    }
  }
}

/** `git` runs this once per command (filter.mlvc.process); stdin/stdout carry pkt-lines. */
export async function filterProcess(io: Io): Promise<CommandResult> {
  const ctx = requireGit(await repoContext(io.cwd))
  // A clone made with the filter configured globally gets mlvc's hooks on its first checkout.
  if (!(await hooksInstalled(ctx.workTree).catch(() => true))) {
    await installHooks(ctx.workTree, mlvcCommand()).catch((err) =>
      io.warn(`mlvc: could not install hooks: ${(err as Error).message}`),
    )
  }
  await withRepoStore(ctx, async (store) => {
    const handlers = createFilterHandlers({
      workTree: ctx.workTree,
      gitDir: ctx.git.gitDir,
      signal: io.signal,
      store,
      statCache: await openStatCache(ctx.git.gitDir),
      inlineSmudgeLimit: inlineLimit(ctx),
      missing: configBoolean(ctx.config.tree, 'git.missingIsError') ? 'error' : 'warn',
      fetch: fetcher(ctx, io, store),
      warn: (message) => process.stderr.write(`${safeForTerminal(message)}\n`),
    })
    await runFilterProtocol({ input: readFd(0), outputFd: 1 }, handlers)
  })
  return { data: null, text: '' }
}
