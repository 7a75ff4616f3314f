import { gcStore } from '../../store/index.ts'
import { repoContext, withRepoStore } from '../context.ts'
import { type CommandResult, formatBytes, type Io } from '../io.ts'

export async function gc(options: { dryRun: boolean }, io: Io): Promise<CommandResult> {
  const report = await withRepoStore(await repoContext(io.cwd), (store) =>
    gcStore(store, { dryRun: options.dryRun }),
  )
  for (const id of report.missingRoots) io.warn(`warning: ${id} is referenced but not in the store`)
  const verb = options.dryRun ? 'would free' : 'freed'
  const text = `${verb} ${formatBytes(report.bytesFreed)}: ${report.objectsRemoved} objects removed, ${report.packsRemoved} packs deleted, ${report.packsRewritten} rewritten; ${report.live} live objects`
  return { data: report, text }
}
