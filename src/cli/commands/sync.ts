import { pushAll } from '../../core/index.ts'
import {
  type BadStub,
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

/** Stubs in the history of the given revisions (rev-list arguments); unusable ones are warned about. */
async function historyStubs(
  ctx: GitContext,
  selection: RevSelection,
  io: Io,
): Promise<FoundStub[]> {
  const { stubs, raw, bad } = await findStubs(
    ctx.workTree,
    await historyBlobs(ctx.workTree, selection),
  )
  if (raw.length > 0) throw describeRaw(raw)
  warnBad(bad, io, 'not pushed')
  return stubs
}

/** One warning per unusable stub (its file is skipped; everything else goes on). */
function warnBad(bad: readonly BadStub[], io: Io, what: string): void {
  for (const b of bad) io.warn(`mlvc: ${b.problem.message}; ${what}`)
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
  const stubs = await historyStubs(ctx, selection, io)
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
  const report = await withRepoStore(ctx, (store) =>
    fetchObjects(store, remote, ids, { signal: io.signal, onProgress: io.onProgress }),
  )
  for (const message of report.unreadable) io.warn(`mlvc: ${message}; its objects count as absent`)
  return { remote: remote.name, report }
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
    const found = await findStubs(ctx.workTree, await treeBlobs(ctx.workTree, rev))
    pushAll(stubs, found.stubs)
    warnBad(found.bad, io, 'not fetched')
  }
  const { remote, report } = await fetchStubs(ctx, remoteName, stubs, io)
  for (const id of report.missing) io.warn(`mlvc: ${id} is not on remote ${remote}`)
  const repaired = report.repaired.length > 0 ? `; replaced ${report.repaired.length} damaged` : ''
  const text = `fetched ${report.fetchedObjects} objects (${formatBytes(report.fetchedBytes)}) in ${report.requests} requests from ${remote}${repaired}`
  return { data: { remote, ...report }, text, exitCode: report.missing.length > 0 ? 1 : 0 }
}

/**
 * Fetches what the checked-out files need and writes them into the work tree. A file whose
 * content turns out damaged when written is fetched again (the read recorded the damage) and
 * written once more; an unusable stub is reported and left as it is, and never stops the others.
 */
export async function pull(remoteName: string | undefined, io: Io): Promise<CommandResult> {
  const ctx = requireGit(await repoContext(io.cwd))
  await warnIfNotInstalled(ctx, io)
  const { stubs, bad } = await indexStubs(ctx)
  warnBad(bad, io, 'left as it is')
  const first = await fetchStubs(ctx, remoteName, stubs, io)
  const { remote } = first
  const repaired = [...first.report.repaired]
  let written = await withRepoStore(ctx, (store) => materializeWorkTree(ctx, store, stubs, io))
  const damaged = new Set(written.failed.filter((f) => f.code === 'CORRUPT').map((f) => f.path))
  if (damaged.size > 0) {
    const again = stubs.filter((s) => damaged.has(s.path))
    const { report } = await fetchStubs(ctx, remoteName, again, io)
    pushAll(repaired, report.repaired)
    if (report.repaired.length > 0) {
      const retry = await withRepoStore(ctx, (store) => materializeWorkTree(ctx, store, again, io))
      written = {
        written: [...written.written, ...retry.written],
        missing: [...written.missing, ...retry.missing],
        failed: [...written.failed.filter((f) => !damaged.has(f.path)), ...retry.failed],
      }
    }
  }
  for (const path of written.missing)
    io.warn(`mlvc: ${quote(path)}: content is not on remote ${remote}; left as a stub`)
  for (const f of written.failed) io.warn(`mlvc: ${f.message}; left as a stub`)
  const notes = [
    repaired.length > 0 ? `replaced ${repaired.length} damaged objects` : '',
    bad.length + written.failed.length > 0
      ? `${bad.length + written.failed.length} files not written (see above)`
      : '',
  ].filter(Boolean)
  const text = `fetched ${formatBytes(first.report.fetchedBytes)} from ${remote}; wrote ${written.written.length} files${notes.map((n) => `; ${n}`).join('')}`
  const failed = written.missing.length + written.failed.length + bad.length
  return {
    data: {
      remote,
      fetch: first.report,
      repaired,
      ...written,
      bad: bad.map((b) => ({ path: b.path, message: b.problem.message })),
    },
    text,
    exitCode: failed > 0 ? 1 : 0,
  }
}
