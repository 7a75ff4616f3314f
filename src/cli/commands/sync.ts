import {
  fetch as fetchFiles,
  type PushResult,
  pull as pullFiles,
  push as pushFiles,
} from '../../git/index.ts'
import { repoContext } from '../context.ts'
import { type CommandResult, formatBytes, type Io } from '../io.ts'
import { requireGit, warnIfNotInstalled } from '../repo.ts'
import { withSession } from '../session.ts'
import { quote } from '../text.ts'

export interface TransferOptions {
  /** --all: every branch and tag. */
  all?: boolean | undefined
}

/** What a push did, as `mlvc push` and the pre-push hook report it. */
export function pushOutput(result: PushResult): CommandResult {
  const { remote, files, report } = result
  const text = `pushed ${report.uploadedObjects} objects (${formatBytes(report.uploadedBytes)}) in ${report.packs} packs to ${remote}; ${report.present} already there`
  return { data: { remote, files, ...report }, text }
}

/** The repository and what `mlvc push` and `mlvc fetch` were asked to transfer. */
async function transferArgs(
  io: Io,
  remote: string | undefined,
  revs: string[],
  options: TransferOptions,
) {
  const ctx = requireGit(await repoContext(io.cwd))
  return { ctx, selection: { revs, all: options.all === true, remote } }
}

/** Uploads what the given commits (default: HEAD's history) reference and the remote lacks. */
export async function push(
  io: Io,
  [remoteName, revs]: [string | undefined, string[]],
  options: TransferOptions,
): Promise<CommandResult> {
  const { ctx, selection } = await transferArgs(io, remoteName, revs, options)
  return pushOutput(await withSession(ctx, io, (session) => pushFiles(session, selection)))
}

/** Downloads what the given commits' trees (default: HEAD) need. */
export async function fetch(
  io: Io,
  [remoteName, revs]: [string | undefined, string[]],
  options: TransferOptions,
): Promise<CommandResult> {
  const { ctx, selection } = await transferArgs(io, remoteName, revs, options)
  const { remote, report } = await withSession(ctx, io, (session) => fetchFiles(session, selection))
  for (const id of report.missing) io.warn(`mlvc: ${id} is not on remote ${remote}`)
  const repaired = report.repaired.length > 0 ? `; replaced ${report.repaired.length} damaged` : ''
  const text = `fetched ${report.fetchedObjects} objects (${formatBytes(report.fetchedBytes)}) in ${report.requests} requests from ${remote}${repaired}`
  return { data: { remote, ...report }, text, exitCode: report.missing.length > 0 ? 1 : 0 }
}

/** Fetches what the checked-out files need and writes them into the work tree. */
export async function pull(io: Io, [remoteName]: [string | undefined]): Promise<CommandResult> {
  const ctx = requireGit(await repoContext(io.cwd))
  await warnIfNotInstalled(ctx, io)
  const result = await withSession(ctx, io, (session) => pullFiles(session, { remote: remoteName }))
  const { remote, repaired, bad, written, missing, failed } = result
  for (const path of missing)
    io.warn(`mlvc: ${quote(path)}: content is not on remote ${remote}; left as a stub`)
  for (const f of failed) io.warn(`mlvc: ${f.message}; left as a stub`)
  const notes = [
    repaired.length > 0 ? `replaced ${repaired.length} damaged objects` : '',
    bad.length + failed.length > 0
      ? `${bad.length + failed.length} files not written (see above)`
      : '',
  ].filter(Boolean)
  const text = `fetched ${formatBytes(result.fetch.fetchedBytes)} from ${remote}; wrote ${written.length} files${notes.map((n) => `; ${n}`).join('')}`
  return {
    data: {
      remote,
      fetch: result.fetch,
      repaired,
      written,
      missing,
      failed,
      bad: bad.map((b) => ({ path: b.path, message: b.problem.message })),
    },
    text,
    exitCode: missing.length + failed.length + bad.length > 0 ? 1 : 0,
  }
}
