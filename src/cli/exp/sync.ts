import { resolve } from 'node:path'
import { MlvcError } from '../../core/index.ts'
import {
  type ExpRepo,
  type ExpSide,
  fetchRepoFiles,
  isUrl,
  localSide,
  openExpRepo,
  openSide,
  resolveRemote,
  type SyncOptions,
  type SyncReport,
  syncAndClose,
} from '../../experiments/index.ts'
import { type CommandResult, formatBytes, type Io } from '../io.ts'
import { quote } from '../text.ts'
import {
  machineRoots,
  openExpContext,
  type RepoOption,
  warnProblems,
  withOptionalStore,
} from './context.ts'

export interface SyncCliOptions extends RepoOption {
  repofiles?: boolean | undefined
  dryRun?: boolean | undefined
  prefer?: string | undefined
}

const PREFER: Record<string, 'a' | 'b'> = { src: 'a', local: 'a', dst: 'b', remote: 'b' }

const VERB = { copy: 'copied', replace: 'replaced', delete: 'deleted' } as const

function renderReport(report: SyncReport): string {
  const lines: string[] = []
  const would = report.dryRun ? 'would be ' : ''
  for (const c of report.changes)
    lines.push(`${would}${VERB[c.action]}  ${quote(c.id)}  ${quote(c.path)}  (in ${c.on})`)
  for (const c of report.pending)
    lines.push(
      `not ${VERB[c.action]} (other direction)  ${quote(c.id)}  ${quote(c.path)}  (in ${c.on})`,
    )
  for (const c of report.conflicts)
    lines.push(`CONFLICT  ${quote(c.id)}  ${quote(c.a?.path ?? c.b?.path ?? '')}: ${c.reason}`)
  for (const s of report.skipped) lines.push(`skipped  ${quote(s.id)}: ${s.reason}`)
  for (const e of report.errors) lines.push(`error  ${quote(e.id)}: ${e.message}`)
  for (const u of report.repofiles.unavailable)
    lines.push(`RepoFile not found on either side: ${quote(u)}`)
  const rf = report.repofiles
  const count = (action: keyof typeof VERB) =>
    report.changes.filter((c) => c.action === action).length
  lines.push(
    `${report.dryRun ? 'dry run: ' : ''}${report.a} ⇄ ${report.b}: ${count('copy')} copied, ${count('replace')} replaced, ${count('delete')} deleted, ${report.conflicts.length} conflicts; RepoFiles: ${rf.copied} copied (${formatBytes(rf.bytes)})${rf.leftBehind ? `, ${rf.leftBehind} left behind (mlvc exp fetch)` : ''}`,
  )
  if (report.conflicts.length > 0) {
    lines.push(
      '  hint: resolve with --prefer src|dst (its version wins), or remove one of the experiments',
    )
  }
  return lines.join('\n')
}

function syncOptions(
  options: SyncCliOptions,
  io: Io,
  direction: SyncOptions['direction'],
): SyncOptions {
  const prefer = options.prefer === undefined ? undefined : PREFER[options.prefer]
  if (options.prefer !== undefined && prefer === undefined) {
    throw new MlvcError(
      'USAGE',
      `--prefer ${options.prefer}: expected src or dst (local or remote)`,
    )
  }
  return {
    repofiles: options.repofiles,
    dryRun: options.dryRun,
    prefer,
    direction,
    onProgress: io.onProgress,
    signal: io.signal,
  }
}

async function runSync(
  a: ExpSide,
  b: ExpSide,
  options: SyncOptions,
  io: Io,
): Promise<CommandResult> {
  const report = await syncAndClose(a, b, options)
  warnProblems(io, report.problems)
  const failed = report.conflicts.length + report.errors.length > 0
  return { data: report, text: renderReport(report), exitCode: failed ? 1 : 0 }
}

/**
 * `sync SRC DST`: two folders (DST is created if missing) or a folder and a file:// URL. With one
 * argument, the current repository and that remote (a name in .dbx/config.json, a path or a URL).
 */
export async function expSync(
  io: Io,
  [src, dst]: [string, string | undefined],
  options: SyncCliOptions,
): Promise<CommandResult> {
  if (dst === undefined) return expTransfer(src, 'both', options, io)
  const roots = await machineRoots(io)
  const a = await openSide(src, { cwd: io.cwd, roots })
  // A repository created by the sync stores RepoFiles the way the source does.
  const source = isUrl(src) ? undefined : await openExpRepo(resolve(io.cwd, src), { roots })
  const config = source?.config.repofiles ? { repofiles: source.config.repofiles } : undefined
  const b = await openSide(dst, { cwd: io.cwd, roots, create: true, config })
  return runSync(a, b, syncOptions(options, io, 'both'), io)
}

/** `mlvc exp push`: only the remote changes. */
export async function expPush(
  io: Io,
  [remote]: [string | undefined],
  options: SyncCliOptions,
): Promise<CommandResult> {
  return expTransfer(remote, 'a-to-b', options, io)
}

/** `mlvc exp pull`: only this repository changes. */
export async function expPull(
  io: Io,
  [remote]: [string | undefined],
  options: SyncCliOptions,
): Promise<CommandResult> {
  return expTransfer(remote, 'b-to-a', options, io)
}

/** push (only the remote changes), pull (only this repository changes), or both. */
async function expTransfer(
  remoteName: string | undefined,
  direction: NonNullable<SyncOptions['direction']>,
  options: SyncCliOptions,
  io: Io,
): Promise<CommandResult> {
  const { repo } = await openExpContext(io, options)
  const other = await openSide(remoteSpec(repo, remoteName, io), {
    roots: repo.roots,
    create: true,
  })
  return runSync(localSide(repo), other, syncOptions(options, io, direction), io)
}

/** A remote name from config.json, a URL, or a path given relative to the working directory. */
function remoteSpec(repo: ExpRepo, nameOrUrl: string | undefined, io: Io): string {
  const spec = resolveRemote(repo, nameOrUrl)
  return isUrl(spec) ? spec : resolve(io.cwd, spec)
}

export interface FetchCliOptions extends RepoOption {
  from?: string[] | undefined
}

/** Gets RepoFiles left behind: from the mlvc store, then the sources noted at sync time or --from. */
export async function expFetch(
  io: Io,
  [ids]: [string[]],
  options: FetchCliOptions,
): Promise<CommandResult> {
  const exp = await openExpContext(io, options)
  const from = options.from?.length ? options.from : undefined
  const sources = from?.map((f) => remoteSpec(exp.repo, f, io))
  const report = await withOptionalStore(exp, (store) =>
    fetchRepoFiles(exp.repo, {
      ids: ids.length > 0 ? ids : undefined,
      sources,
      store,
      onProgress: io.onProgress,
      signal: io.signal,
    }),
  )
  const lines = [
    ...report.fetched.map((f) => `fetched  ${quote(f.where)}  from ${quote(f.from)}`),
    ...report.failed.map((f) => `FAILED  ${quote(f.where)}: ${f.message}`),
    `${report.fetched.length} RepoFiles fetched, ${report.present} already here, ${report.failed.length} not found`,
  ]
  return { data: report, text: lines.join('\n'), exitCode: report.failed.length > 0 ? 1 : 0 }
}
