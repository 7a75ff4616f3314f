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
  const { stubs } = await findStubs(workTree, blobs)
  return [...new Set(stubs.map((s) => s.stub.id))]
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
