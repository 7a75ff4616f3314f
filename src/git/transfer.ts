import { pushAll } from '../core/index.ts'
import { type FetchReport, fetchObjects, type PushReport, pushObjects } from '../remote/index.ts'
import { git } from './exec.ts'
import {
  describeRaw,
  type FoundStub,
  findStubs,
  historyBlobs,
  type RevSelection,
  treeBlobs,
} from './scan.ts'
import type { RepoSession } from './session.ts'
import { warnBadStubs } from './warnings.ts'

/** Which commits to push or fetch, and to or from which mlvc remote. */
export interface TransferSelection {
  /** Commits (default HEAD); for a push their history, for a fetch their trees. */
  revs: readonly string[]
  /** Without revs: every branch and tag (a push: their history; a fetch: their tips). */
  all: boolean
  /** An mlvc remote's name (default: the default remote). */
  remote?: string | undefined
}

export interface PushResult {
  remote: string
  /** Distinct files (ids) pushed. */
  files: number
  report: PushReport
}

export interface FetchResult {
  remote: string
  report: FetchReport
}

/** Stubs in the history of the selected commits; unusable ones are warned about and skipped. */
async function historyStubs(session: RepoSession, selection: RevSelection): Promise<FoundStub[]> {
  const blobs = await historyBlobs(session.workTree, selection)
  const { stubs, raw, bad } = await findStubs(session.workTree, blobs)
  if (raw.length > 0) throw describeRaw(raw)
  warnBadStubs(session.onWarning, bad, 'not pushed')
  return stubs
}

/** Uploads what the stubs' files need and the remote lacks. */
export async function pushStubs(
  session: RepoSession,
  stubs: readonly FoundStub[],
  remoteName?: string,
): Promise<PushResult> {
  const remote = await session.openRemote(remoteName)
  const ids = [...new Set(stubs.map((s) => s.stub.id))]
  const report = await pushObjects(await session.store(), remote, ids, {
    signal: session.signal,
    onProgress: session.onProgress,
  })
  return { remote: remote.name, files: ids.length, report }
}

/** Uploads what the selected commits (default: HEAD's history) reference and the remote lacks. */
export async function push(session: RepoSession, options: TransferSelection): Promise<PushResult> {
  const { revs, all } = options
  const selection =
    revs.length > 0 || !all ? { revs: revs.length > 0 ? revs : ['HEAD'] } : { options: ['--all'] }
  return pushStubs(session, await historyStubs(session, selection), options.remote)
}

/** Downloads what the stubs' files need (and good copies of damaged objects they use). */
export async function fetchStubs(
  session: RepoSession,
  stubs: readonly FoundStub[],
  remoteName?: string,
): Promise<FetchResult> {
  const remote = await session.openRemote(remoteName)
  const ids = [...new Set(stubs.map((s) => s.stub.id))]
  const report = await fetchObjects(await session.store(), remote, ids, {
    signal: session.signal,
    onProgress: session.onProgress,
  })
  for (const message of report.unreadable)
    session.onWarning?.({ kind: 'remote-index-unreadable', message })
  return { remote: remote.name, report }
}

async function tipTrees(workTree: string, options: TransferSelection): Promise<string[]> {
  if (options.revs.length > 0) return [...options.revs]
  if (!options.all) return ['HEAD']
  const out = await git(
    ['for-each-ref', '--format=%(objectname)', 'refs/heads', 'refs/tags', 'refs/remotes'],
    { cwd: workTree },
  )
  return [...new Set(out.split('\n').filter(Boolean))]
}

/** Downloads what the selected commits' trees (default: HEAD) need; `report.missing`: not there. */
export async function fetch(
  session: RepoSession,
  options: TransferSelection,
): Promise<FetchResult> {
  const stubs: FoundStub[] = []
  for (const rev of await tipTrees(session.workTree, options)) {
    const found = await findStubs(session.workTree, await treeBlobs(session.workTree, rev))
    pushAll(stubs, found.stubs)
    warnBadStubs(session.onWarning, found.bad, 'not fetched')
  }
  return fetchStubs(session, stubs, options.remote)
}
