import { pushAll } from '../../core/index.ts'
import { findStubs, indexBlobs, treeBlobs } from '../../git/index.ts'
import { type FsckIssue, fsckStore } from '../../store/index.ts'
import { type RepoContext, repoContext, withRepoStore } from '../context.ts'
import { type CommandResult, formatBytes, type Io } from '../io.ts'
import { quote } from '../text.ts'

/** Files that HEAD and the index need: each must be in the store with all its chunks. */
async function headRoots(
  ctx: RepoContext,
): Promise<{ roots: Array<{ id: string; from: string }>; issues: FsckIssue[] }> {
  const workTree = ctx.git?.workTree
  if (!workTree) return { roots: [], issues: [] }
  const head = await treeBlobs(workTree, 'HEAD').catch(() => [])
  const { stubs, raw } = await findStubs(workTree, [...head, ...(await indexBlobs(workTree))])
  return {
    roots: stubs.map((s) => ({ id: s.stub.id, from: s.path })),
    issues: raw.map((r) => ({
      severity: 'error',
      message: `${quote(r.path)}: tracked by mlvc but committed raw (run mlvc install, then git add --renormalize .)`,
    })),
  }
}

export async function fsck(io: Io): Promise<CommandResult> {
  const ctx = await repoContext(io.cwd)
  const { roots, issues } = await headRoots(ctx)
  const report = await withRepoStore(ctx, (store) =>
    fsckStore(store, { roots, onProgress: io.onProgress }),
  )
  pushAll(report.issues, issues)
  const errors = report.issues.filter((i) => i.severity === 'error')
  const lines = report.issues.map((i) => `${i.severity}: ${i.message}`)
  lines.push(
    `${errors.length === 0 ? 'ok' : 'CORRUPT'}: ${report.objects} objects (${formatBytes(report.bytes)}) in ${report.packs} packs, ${report.manifests} manifests, ${errors.length} errors`,
  )
  return { data: report, text: lines.join('\n'), exitCode: errors.length === 0 ? 0 : 1 }
}
