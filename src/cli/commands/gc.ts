import { gitRoots } from '../../git/index.ts'
import { gcStore } from '../../store/index.ts'
import { repoContext, withRepoStore } from '../context.ts'
import { type CommandResult, formatBytes, type Io } from '../io.ts'

/** Removes objects nothing references: in a Git repository, Git's refs and indexes keep theirs. */
export async function gc(
  io: Io,
  _operands: [],
  options: { dryRun?: boolean | undefined },
): Promise<CommandResult> {
  const dryRun = options.dryRun === true
  const ctx = await repoContext(io.cwd)
  const workTree = ctx.git?.workTree
  const roots = workTree ? await gitRoots(workTree) : []
  const report = await withRepoStore(ctx, (store) => gcStore(store, { dryRun, roots }))
  for (const id of report.missingRoots) io.warn(`warning: ${id} is referenced but not in the store`)
  const verb = dryRun ? 'would free' : 'freed'
  const text = `${verb} ${formatBytes(report.bytesFreed)}: ${report.objectsRemoved} objects removed, ${report.packsRemoved} packs deleted, ${report.packsRewritten} rewritten; ${report.live} live objects`
  return { data: report, text }
}
