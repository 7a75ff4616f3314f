import { type LoadedConfig, readSetting } from '../core/index.ts'
import { fetchObjects } from '../remote/index.ts'
import { createFilterHandlers, type FilterContext } from './filter.ts'
import { type FilterStreams, runFilterProtocol } from './filter-process.ts'
import type { RepoSession } from './session.ts'
import { openStatCache } from './stat-cache.ts'

/** The filter's settings from config (`git.inlineSmudgeLimit`, `git.missingIsError`). */
export interface FilterSettings {
  inlineSmudgeLimit: number
  missing: 'warn' | 'error'
}

/** Reads the filter's settings; throws BAD_CONFIG for a value of the wrong kind (see readSetting). */
export function filterSettings(config: LoadedConfig): FilterSettings {
  return {
    inlineSmudgeLimit: readSetting(config, 'git.inlineSmudgeLimit'),
    missing: readSetting(config, 'git.missingIsError') ? 'error' : 'warn',
  }
}

/**
 * The filter's fetch: from the default remote, with good copies of damaged objects. A remote that
 * fails counts as "still missing" (one warning per command); an unreadable pack index on it is
 * warned about once.
 */
export function remoteFetcher(session: RepoSession): FilterContext['fetch'] {
  let warned = false
  const told = new Set<string>()
  return async (ids) => {
    try {
      const remote = await session.openRemote()
      const report = await fetchObjects(await session.store(), remote, ids)
      for (const message of report.unreadable.filter((m) => !told.has(m))) {
        told.add(message)
        session.onWarning?.({ kind: 'remote-index-unreadable', message })
      }
      return {
        missing: ids.filter((id) => report.missing.includes(id)),
        repaired: report.repaired.length,
      }
    } catch (err) {
      if (!warned)
        session.onWarning?.({ kind: 'checkout-fetch-failed', message: (err as Error).message })
      warned = true
      return { missing: ids, repaired: 0 }
    }
  }
}

/**
 * Runs git's long-running filter process (filter.mlvc.process) on `streams` until git closes
 * them: clean and smudge with the session's store, fetching missing content from its remote.
 * `warn` gets the filter's own messages, which go to git's stderr whatever the caller's verbosity.
 */
export async function serveFilter(
  session: RepoSession,
  streams: FilterStreams,
  options: { settings: FilterSettings; warn: (message: string) => void },
): Promise<void> {
  const handlers = createFilterHandlers({
    workTree: session.workTree,
    gitDir: session.gitDir,
    signal: session.signal,
    store: await session.store(),
    statCache: await openStatCache(session.gitDir),
    inlineSmudgeLimit: options.settings.inlineSmudgeLimit,
    missing: options.settings.missing,
    fetch: remoteFetcher(session),
    warn: options.warn,
  })
  await runFilterProtocol(streams, handlers)
}
