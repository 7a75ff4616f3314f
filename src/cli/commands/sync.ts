import { pushAll } from '../../core/index.ts'
import {
  describeRaw,
  type FoundStub,
  findStubs,
  git,
  historyBlobs,
  type RevSelection,
  treeBlobs,
} from '../../git/index.ts'
import { fetchObjects, pushObjects } from '../../remote/index.ts'
import { repoContext, withRepoStore } from '../context.ts'
import { type CommandResult, formatBytes, type Io } from '../io.ts'
import {
  type GitContext,
  indexStubs,
  materializeWorkTree,
  openConfiguredRemote,
  requireGit,
  warnIfNotInstalled,
} from '../repo.ts'
import { quote } from '../text.ts'

export interface PushOptions {
  all: boolean
}

/** Stubs in the history of the selected revisions. */
async function historyStubs(ctx: GitContext, selection: RevSelection): Promise<FoundStub[]> {
  const { stubs, raw } = await findStubs(ctx.workTree, await historyBlobs(ctx.workTree, selection))
  if (raw.length > 0) throw describeRaw(raw)
  return stubs
}

/** Uploads what the given commits (default: HEAD's history) reference and the remote lacks. */
export async function push(
  remoteName: string | undefined,
  revs: string[],
  options: PushOptions,
  io: Io,
): Promise<CommandResult> {
  const ctx = requireGit(await repoContext(io.cwd))
  const selection =
    revs.length > 0 || !options.all
      ? { revs: revs.length > 0 ? revs : ['HEAD'] }
      : { options: ['--all'] }
  const stubs = await historyStubs(ctx, selection)
  return pushStubs(ctx, remoteName, stubs, io)
}

export async function pushStubs(
  ctx: GitContext,
  remoteName: string | undefined,
  stubs: FoundStub[],
  io: Io,
): Promise<CommandResult> {
  const remote = await openConfiguredRemote(ctx, remoteName)
  const ids = [...new Set(stubs.map((s) => s.stub.id))]
  const report = await withRepoStore(ctx, (store) =>
    pushObjects(store, remote, ids, { signal: io.signal, onProgress: io.onProgress }),
  )
  const text = `pushed ${report.uploadedObjects} objects (${formatBytes(report.uploadedBytes)}) in ${report.packs} packs to ${remote.name}; ${report.present} already there`
  return { data: { remote: remote.name, files: ids.length, ...report }, text }
}

async function tipTrees(ctx: GitContext, revs: string[], all: boolean): Promise<string[]> {
  if (revs.length > 0) return revs
  if (!all) return ['HEAD']
  const out = await git(
    ['for-each-ref', '--format=%(objectname)', 'refs/heads', 'refs/tags', 'refs/remotes'],
    { cwd: ctx.workTree },
  )
  return [...new Set(out.split('\n').filter(Boolean))]
}

async function fetchStubs(
  ctx: GitContext,
  remoteName: string | undefined,
  stubs: FoundStub[],
  io: Io,
) {
  const remote = await openConfiguredRemote(ctx, remoteName)
  const ids = [...new Set(stubs.map((s) => s.stub.id))]
  return withRepoStore(ctx, async (store) => ({
    remote: remote.name,
    report: await fetchObjects(store, remote, ids, {
      signal: io.signal,
      onProgress: io.onProgress,
    }),
  }))
}

/** Downloads what the given commits' trees (default: HEAD) need. */
export async function fetch(
  remoteName: string | undefined,
  revs: string[],
  options: { all: boolean },
  io: Io,
): Promise<CommandResult> {
  const ctx = requireGit(await repoContext(io.cwd))
  const stubs: FoundStub[] = []
  for (const rev of await tipTrees(ctx, revs, options.all)) {
    pushAll(stubs, (await findStubs(ctx.workTree, await treeBlobs(ctx.workTree, rev))).stubs)
  }
  const { remote, report } = await fetchStubs(ctx, remoteName, stubs, io)
  for (const id of report.missing) io.warn(`mlvc: ${id} is not on remote ${remote}`)
  const text = `fetched ${report.fetchedObjects} objects (${formatBytes(report.fetchedBytes)}) in ${report.requests} requests from ${remote}`
  return { data: { remote, ...report }, text, exitCode: report.missing.length > 0 ? 1 : 0 }
}

/** Fetches what the checked-out files need and writes them into the work tree. */
export async function pull(remoteName: string | undefined, io: Io): Promise<CommandResult> {
  const ctx = requireGit(await repoContext(io.cwd))
  await warnIfNotInstalled(ctx, io)
  const stubs = await indexStubs(ctx)
  const { remote, report } = await fetchStubs(ctx, remoteName, stubs, io)
  const written = await withRepoStore(ctx, (store) => materializeWorkTree(ctx, store, stubs, io))
  for (const path of written.missing)
    io.warn(`mlvc: ${quote(path)}: content is not on remote ${remote}; left as a stub`)
  const text = `fetched ${formatBytes(report.fetchedBytes)} from ${remote}; wrote ${written.written.length} files`
  return {
    data: { remote, fetch: report, ...written },
    text,
    exitCode: written.missing.length > 0 ? 1 : 0,
  }
}
