import { MlvcError } from '../../core/index.ts'
import { findStubs, historyBlobs, indexBlobs } from '../../git/index.ts'
import { gcStore } from '../../store/index.ts'
import { type RepoContext, repoContext, withRepoStore } from '../context.ts'
import { type CommandResult, formatBytes, type Io } from '../io.ts'

/**
 * What Git keeps alive: stubs in every commit reachable from any ref (branches, tags, remote
 * branches, the stash, every worktree's HEAD) and in every worktree's index. Reflogs do not count,
 * so that rewriting history can free space.
 */
export async function gitRoots(ctx: RepoContext): Promise<string[]> {
  const workTree = ctx.git?.workTree
  if (!workTree) return []
  const blobs = [
    ...(await historyBlobs(workTree, { options: ['--all', '--indexed-objects'] })),
    ...(await indexBlobs(workTree)),
  ]
  const { stubs, bad } = await findStubs(workTree, blobs)
  // A stub from a newer mlvc may reference objects in ways this one cannot read: keep everything.
  const newer = bad.filter((b) => b.problem.kind === 'newer')
  if (newer.length > 0) {
    throw new MlvcError('BAD_STUB', `${newer[0]?.problem.message}: gc cannot tell what it needs`, {
      hint: 'upgrade mlvc before running gc',
    })
  }
  // A malformed stub still keeps alive the file its id line names, if it names one.
  const kept = bad.flatMap((b) => (b.id ? [b.id] : []))
  return [...new Set([...stubs.map((s) => s.stub.id), ...kept])]
}

export async function gc(options: { dryRun: boolean }, io: Io): Promise<CommandResult> {
  const ctx = await repoContext(io.cwd)
  const roots = await gitRoots(ctx)
  const report = await withRepoStore(ctx, (store) =>
    gcStore(store, { dryRun: options.dryRun, roots }),
  )
  for (const id of report.missingRoots) io.warn(`warning: ${id} is referenced but not in the store`)
  const verb = options.dryRun ? 'would free' : 'freed'
  const text = `${verb} ${formatBytes(report.bytesFreed)}: ${report.objectsRemoved} objects removed, ${report.packsRemoved} packs deleted, ${report.packsRewritten} rewritten; ${report.live} live objects`
  return { data: report, text }
}
