import { type FsckIssue, isComplete, rebuildIndexes, type Store } from '../store/index.ts'
import type { Remote } from './remote.ts'
import { type FetchReport, fetchObjects, type TransferOptions } from './transfer.ts'

export interface RepairReport {
  fetch: FetchReport
  /** The issues that remain: what the remote could not supply, and what fetching cannot fix. */
  remaining: FsckIssue[]
}

/** The ids whose objects a fetch can supply, for the issues that it can fix. */
function repairableIds(issues: readonly FsckIssue[]): string[] {
  const ids = new Set<string>()
  for (const issue of issues) {
    switch (issue.kind) {
      case 'corrupt':
      case 'missing':
      case 'incomplete':
        ids.add(issue.id)
        break
      case 'bad-index':
      case 'bad-root':
      case 'unindexed-pack':
        break
    }
  }
  return [...ids]
}

async function isFixed(store: Store, issue: FsckIssue, repaired: Set<string>): Promise<boolean> {
  switch (issue.kind) {
    case 'corrupt':
      return repaired.has(issue.id)
    case 'missing':
    case 'incomplete':
      return isComplete(store, issue.id).catch(() => false)
    case 'bad-index':
      return true
    case 'bad-root':
    case 'unindexed-pack':
      return false
  }
}

/**
 * Repairs what an fsck found: a damaged pack index is rebuilt from the pack's own records (every
 * object still intact is kept, even one no remote has); then good copies of damaged objects and
 * the missing objects (with what they reference) are fetched from `remote`. Good copies go into a
 * new pack; the damaged copies leave their packs' indexes, while the other objects of those packs
 * stay readable where they are.
 */
export async function repairFromRemote(
  store: Store,
  remote: Remote,
  issues: readonly FsckIssue[],
  options: TransferOptions = {},
): Promise<RepairReport> {
  await rebuildIndexes(
    store,
    issues.flatMap((i) => (i.kind === 'bad-index' ? [i.pack] : [])),
  )
  const damaged = issues.flatMap((i) => (i.kind === 'corrupt' ? [i.id] : []))
  const fetch = await fetchObjects(store, remote, repairableIds(issues), { ...options, damaged })
  const repaired = new Set(fetch.repaired)
  const remaining: FsckIssue[] = []
  for (const issue of issues) if (!(await isFixed(store, issue, repaired))) remaining.push(issue)
  return { fetch, remaining }
}
