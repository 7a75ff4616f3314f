import { type ErrorCode, MlvcError, naming, pushAll } from '../core/index.ts'
import type { FetchReport } from '../remote/index.ts'
import { isComplete } from '../store/index.ts'
import { type BadStub, type FoundStub, findStubs, indexBlobs } from './scan.ts'
import type { RepoSession } from './session.ts'
import { openStatCache } from './stat-cache.ts'
import { fetchStubs } from './transfer.ts'
import { warnBadStubs } from './warnings.ts'
import { recheckInIndex, writeContentOverStub } from './worktree.ts'

/** A file not written, and why (its message names it). */
export interface UnwrittenFile {
  path: string
  code: ErrorCode
  message: string
}

export interface MaterializeReport {
  written: string[]
  /** Paths whose content is not in the local store. */
  missing: string[]
  /**
   * Paths not written, and why: a stub that names other content, damaged content, an unsafe
   * path. One such file never stops the others.
   */
  failed: UnwrittenFile[]
}

/** Errors that concern one file; any other (a full disk, Ctrl-C) stops the whole operation. */
const PER_FILE = new Set<ErrorCode>([
  'BAD_STUB',
  'CORRUPT',
  'MISSING_OBJECT',
  'BAD_DELTA',
  'UNSAFE_PATH',
])

/** The stubs in the index (what the checked-out commit plus staged changes need), and bad ones. */
export async function indexStubs(
  workTree: string,
): Promise<{ stubs: FoundStub[]; bad: BadStub[] }> {
  const { stubs, bad } = await findStubs(workTree, await indexBlobs(workTree))
  return { stubs, bad }
}

/** Replaces work-tree files that are still stubs with their content, where the store has it. */
export async function materializeWorkTree(
  session: RepoSession,
  stubs: readonly FoundStub[],
): Promise<MaterializeReport> {
  const { workTree, gitDir } = session
  const store = await session.store()
  const statCache = await openStatCache(gitDir)
  const report: MaterializeReport = { written: [], missing: [], failed: [] }
  const writer = { workTree, gitDir, store, statCache }
  const options = { signal: session.signal, onProgress: session.onProgress }
  try {
    for (const { path, stub } of stubs) {
      try {
        if (!(await isComplete(store, stub.id))) report.missing.push(path)
        else if (await writeContentOverStub(writer, path, stub, options)) report.written.push(path)
      } catch (err) {
        if (!(err instanceof MlvcError && PER_FILE.has(err.code))) throw err
        report.failed.push({ path, code: err.code, message: naming(err, path) })
      }
    }
  } finally {
    await statCache.save()
    await recheckInIndex(workTree, report.written)
  }
  return report
}

export interface PullResult extends MaterializeReport {
  remote: string
  /** The fetch of what the index needs. */
  fetch: FetchReport
  /** Damaged objects replaced with good copies, by that fetch and by a second one if needed. */
  repaired: string[]
  /** Unusable stubs in the index, left as they are. */
  bad: BadStub[]
}

/**
 * Fetches what the index's files need and writes them into the work tree over their stubs. A file
 * whose content turns out damaged when written is fetched again (the read recorded the damage)
 * and written once more; an unusable stub is reported and left as it is, and never stops the
 * others.
 */
export async function pull(
  session: RepoSession,
  options: { remote?: string | undefined } = {},
): Promise<PullResult> {
  const { stubs, bad } = await indexStubs(session.workTree)
  warnBadStubs(session.onWarning, bad, 'left as it is')
  const first = await fetchStubs(session, stubs, options.remote)
  const repaired = [...first.report.repaired]
  let written = await materializeWorkTree(session, stubs)
  const damaged = new Set(written.failed.filter((f) => f.code === 'CORRUPT').map((f) => f.path))
  if (damaged.size > 0) {
    const again = stubs.filter((s) => damaged.has(s.path))
    const { report } = await fetchStubs(session, again, options.remote)
    pushAll(repaired, report.repaired)
    if (report.repaired.length > 0) {
      const retry = await materializeWorkTree(session, again)
      written = {
        written: [...written.written, ...retry.written],
        missing: [...written.missing, ...retry.missing],
        failed: [...written.failed.filter((f) => !damaged.has(f.path)), ...retry.failed],
      }
    }
  }
  return { remote: first.remote, fetch: first.report, repaired, ...written, bad }
}
