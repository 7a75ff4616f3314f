import { MlvcError } from '../../core/index.ts'
import { entityRoots } from '../../entities/index.ts'
import { gcRemoteRefs, gitRoots, type RemoteGcResult } from '../../git/index.ts'
import { gcStore } from '../../store/index.ts'
import { repoContext, withRepoStore } from '../context.ts'
import { parseDuration } from '../duration.ts'
import { type CommandResult, formatBytes, type Io } from '../io.ts'
import { requireGit } from '../repo.ts'
import { withSession } from '../session.ts'
import { entityRepo, withEntities } from './entity.ts'

export interface GcCommandOptions {
  dryRun?: boolean | undefined
  /** gc this mlvc remote instead of the local store. */
  remote?: string | undefined
  /** With `remote`: branches whose history is kept too. */
  keep?: string[] | undefined
  /** With `remote`: the grace period, as a duration (10m, 1h). */
  grace?: string | undefined
}

/** What gc of a remote removed (or would): a line per pack, then the totals. */
function remoteOutput(report: RemoteGcResult): CommandResult {
  const verb = report.dryRun ? 'would remove' : 'removed'
  const lines = [
    ...report.removedPacks.map((p) => `${verb} packs/${p}.pack (nothing in it is referenced)`),
    ...report.repackedPacks.map(
      (p) => `${report.dryRun ? 'would repack' : 'repacked'} packs/${p}.pack (mostly unreferenced)`,
    ),
    ...report.removedLeftovers.map(
      (p) => `${verb} packs/${p}.pack (no index: left by an interrupted push)`,
    ),
  ]
  if (report.abortedUploads > 0)
    lines.push(
      `${report.dryRun ? 'would abort' : 'aborted'} ${report.abortedUploads} unfinished uploads`,
    )
  const freed = report.dryRun ? 'would free' : 'freed'
  lines.push(
    `remote ${report.remote}: ${freed} ${formatBytes(report.freedBytes)}; kept ${report.liveObjects} objects (${formatBytes(report.liveBytes)}) that ${report.roots} files need`,
  )
  return { data: report, text: lines.join('\n') }
}

/**
 * Removes objects nothing references: in a Git repository, Git's refs and indexes keep theirs.
 * With `remote`, gcs that remote instead (gcRemoteRefs).
 */
export async function gc(io: Io, _operands: [], options: GcCommandOptions): Promise<CommandResult> {
  const dryRun = options.dryRun === true
  if (options.remote !== undefined) {
    const remote = options.remote
    const graceMs =
      options.grace === undefined ? undefined : parseDuration(options.grace, '--grace')
    const ctx = requireGit(await repoContext(io.cwd))
    // Entity versions keep their files on the remote too (their manifests are not stubs).
    const extraRoots = await withEntities(io, entityRoots)
    const request = { remote, keep: options.keep, dryRun, graceMs, extraRoots }
    return remoteOutput(await withSession(ctx, io, (session) => gcRemoteRefs(session, request)))
  }
  if (options.keep !== undefined || options.grace !== undefined)
    throw new MlvcError('USAGE', '--keep and --grace apply to gc of a remote', {
      hint: 'mlvc gc --remote NAME --keep BRANCH --grace 1h',
    })
  const ctx = await repoContext(io.cwd)
  const workTree = ctx.git?.workTree
  const roots = workTree ? await gitRoots(workTree) : []
  const report = await withRepoStore(ctx, async (store) => {
    if (ctx.git?.workTree)
      for (const id of await entityRoots(entityRepo(requireGit(ctx), store))) roots.push(id)
    return gcStore(store, { dryRun, roots })
  })
  for (const id of report.missingRoots) io.warn(`warning: ${id} is referenced but not in the store`)
  const verb = dryRun ? 'would free' : 'freed'
  const text = `${verb} ${formatBytes(report.bytesFreed)}: ${report.objectsRemoved} objects removed, ${report.packsRemoved} packs deleted, ${report.packsRewritten} rewritten; ${report.live} live objects`
  return { data: report, text }
}
