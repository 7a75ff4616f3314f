import { MlvcError } from '../../core/index.ts'
import { fsckRemoteRefs, fsckRepository, type RepoIssue, readRepoConfig } from '../../git/index.ts'
import { chooseRemote, openRemote, type Remote, type RemoteFsckReport } from '../../remote/index.ts'
import { type RepoContext, repoContext, withRepoStore } from '../context.ts'
import { type CommandResult, formatBytes, type Io } from '../io.ts'
import { requireGit } from '../repo.ts'
import { withSession } from '../session.ts'

export interface FsckCommandOptions {
  /** Fetch good copies of damaged and missing objects from a remote. */
  repair?: boolean | undefined
  /** With --repair: the remote to repair from (default: the default remote); alone: the remote to check. */
  remote?: string | undefined
  /** With a remote to check: its indexes and pack sizes only, not every object's bytes. */
  quick?: boolean | undefined
}

/** The remote to repair from: in Git, as the committed config names it (see readRepoConfig). */
async function repairRemote(ctx: RepoContext, name: string | undefined): Promise<Remote> {
  const workTree = ctx.git?.workTree
  const config = workTree ? await readRepoConfig(workTree) : ctx.config
  return openRemote(chooseRemote(config, name), ctx.root ?? ctx.cwd)
}

function summary(issues: readonly RepoIssue[]): string {
  const counts = new Map<string, number>()
  for (const i of issues)
    if (i.severity === 'error') counts.set(i.kind, (counts.get(i.kind) ?? 0) + 1)
  const total = [...counts.values()].reduce((a, b) => a + b, 0)
  if (total === 0) return 'ok'
  const kinds = [...counts].map(([kind, n]) => `${n} ${kind}`).join(', ')
  return `${total} ${total === 1 ? 'problem' : 'problems'} (${kinds})`
}

/** What the objects take, and what encoding them saved. */
function stored(report: { bytes: number; size: number }): string {
  if (report.size <= report.bytes) return formatBytes(report.bytes)
  const saved = Math.round((100 * (report.size - report.bytes)) / report.size)
  return `${formatBytes(report.bytes)} stored for ${formatBytes(report.size)}: ${saved}% saved by compression`
}

function describe(issue: RepoIssue): string {
  if (issue.kind === 'corrupt' && issue.usedBy.length > 0)
    return `${issue.kind}: ${issue.message} (needed by ${issue.usedBy.join(', ')})`
  return `${issue.kind}: ${issue.message}`
}

/** One line per problem of a remote, then a summary line; exit 1 on any error. */
function remoteOutput(report: RemoteFsckReport, quick: boolean): CommandResult {
  const lines = report.issues.map(
    (i) => `${i.severity === 'error' ? i.kind : 'warning'}: ${i.message}`,
  )
  const errors = report.issues.filter((i) => i.severity === 'error').length
  const state = errors === 0 ? 'ok' : `${errors} ${errors === 1 ? 'problem' : 'problems'}`
  const checked = quick
    ? 'indexes and pack sizes checked, object bytes not read (--quick)'
    : `${formatBytes(report.verifiedBytes)} verified`
  lines.push(
    `remote ${report.remote}: ${state}: ${report.objects} objects (${formatBytes(report.bytes)}) in ${report.packs} packs; ${checked}`,
  )
  return { data: report, text: lines.join('\n'), exitCode: errors === 0 ? 0 : 1 }
}

/**
 * Verifies the store and that the files of HEAD and the index are all present and their stubs
 * usable; with `repair`, first fetches good copies of damaged and missing objects from a remote.
 * With `remote` alone, checks that remote instead (fsckRemoteRefs).
 */
export async function fsck(
  io: Io,
  _operands: [],
  options: FsckCommandOptions,
): Promise<CommandResult> {
  const quick = options.quick === true
  if (quick && (options.remote === undefined || options.repair === true))
    throw new MlvcError('USAGE', '--quick applies to the check of a remote', {
      hint: 'mlvc fsck --remote NAME --quick',
    })
  if (options.remote !== undefined && options.repair !== true) {
    const remote = options.remote
    const ctx = requireGit(await repoContext(io.cwd))
    const report = await withSession(ctx, io, (session) =>
      fsckRemoteRefs(session, { remote, quick }),
    )
    return remoteOutput(report, quick)
  }
  const ctx = await repoContext(io.cwd)
  const repairFrom = options.repair === true ? await repairRemote(ctx, options.remote) : undefined
  const { report, issues, repair } = await withRepoStore(ctx, (store) =>
    fsckRepository(store, {
      workTree: ctx.git?.workTree,
      repairFrom,
      signal: io.signal,
      onProgress: io.onProgress,
    }),
  )
  const lines = issues.map(describe)
  if (repair)
    lines.push(
      `repaired ${repair.repaired} of ${repair.found} problems in the store from remote ${repair.remote}`,
    )
  lines.push(
    `${summary(issues)}: ${report.objects} objects (${stored(report)}) in ${report.packs} packs, ${report.manifests} manifests`,
  )
  const errors = issues.filter((i) => i.severity === 'error')
  const data = {
    ...report,
    issues,
    ...(repair ? { repaired: repair.repaired, remote: repair.remote } : {}),
  }
  return { data, text: lines.join('\n'), exitCode: errors.length === 0 ? 0 : 1 }
}
