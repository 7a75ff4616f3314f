import { fsckStore } from '../../store/index.ts'
import { repoContext, withRepoStore } from '../context.ts'
import { type CommandResult, formatBytes, type Io } from '../io.ts'

export async function fsck(io: Io): Promise<CommandResult> {
  const report = await withRepoStore(await repoContext(io.cwd), (store) =>
    fsckStore(store, { onProgress: io.onProgress }),
  )
  const errors = report.issues.filter((i) => i.severity === 'error')
  const lines = report.issues.map((i) => `${i.severity}: ${i.message}`)
  lines.push(
    `${errors.length === 0 ? 'ok' : 'CORRUPT'}: ${report.objects} objects (${formatBytes(report.bytes)}) in ${report.packs} packs, ${report.manifests} manifests, ${errors.length} errors`,
  )
  return { data: report, text: lines.join('\n'), exitCode: errors.length === 0 ? 0 : 1 }
}
