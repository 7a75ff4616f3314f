import { MlvcError } from '../../core/index.ts'
import { fsckRepo, gcRepoFiles, removeExperiments } from '../../experiments/index.ts'
import { type CommandResult, formatBytes, type Io } from '../io.ts'
import { quote } from '../text.ts'
import { openExpContext, type RepoOption } from './context.ts'

/** Deletes experiments; each deletion is recorded in history so sync carries it elsewhere. */
export async function expRm(
  io: Io,
  [ids]: [string[]],
  options: RepoOption,
): Promise<CommandResult> {
  const { repo } = await openExpContext(io, options)
  const removed = await removeExperiments(repo, ids)
  return {
    data: removed,
    text: removed.map((e) => `removed ${e.id} (${quote(e.path)})`).join('\n'),
  }
}

export interface GcCliOptions extends RepoOption {
  dryRun?: boolean | undefined
  grace?: string | undefined
}

/** Removes RepoFiles nothing references (never those listed in .dbx/attachments). */
export async function expGc(io: Io, _operands: [], options: GcCliOptions): Promise<CommandResult> {
  const { repo } = await openExpContext(io, options)
  const grace = options.grace === undefined ? undefined : Number(options.grace)
  if (grace !== undefined && !(grace >= 0))
    throw new MlvcError('USAGE', '--grace takes a number of seconds')
  const report = await gcRepoFiles(repo, {
    dryRun: options.dryRun,
    graceMs: grace === undefined ? undefined : grace * 1000,
  })
  const verb = report.dryRun ? 'would remove' : 'removed'
  return {
    data: report,
    text: `${verb} ${report.removed.length} RepoFiles (${formatBytes(report.bytes)}), kept ${report.kept}${report.leftovers ? `; ${verb} ${report.leftovers} leftovers of interrupted syncs` : ''}`,
  }
}

/** Verifies meta.json, ExpFiles against files.json, RepoFile links and bytes, log lines. */
export async function expFsck(io: Io, _operands: [], options: RepoOption): Promise<CommandResult> {
  const { repo } = await openExpContext(io, options)
  const report = await fsckRepo(repo, { onProgress: io.onProgress, signal: io.signal })
  const errors = report.issues.filter((i) => i.severity === 'error').length
  const lines = report.issues.map(
    (i) =>
      `${i.severity}: ${i.message.includes(i.path) ? i.message : `${quote(i.path)}: ${i.message}`}`,
  )
  lines.push(
    `${errors === 0 ? 'ok' : 'CORRUPT'}: ${report.experiments} experiments, ${report.repofiles} RepoFiles (${formatBytes(report.bytes)}), ${errors} errors, ${report.issues.length - errors} warnings`,
  )
  return { data: report, text: lines.join('\n'), exitCode: errors === 0 ? 0 : 1 }
}
