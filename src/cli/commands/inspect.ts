import { statSync } from 'node:fs'
import { resolve } from 'node:path'
import { MlvcError } from '../../core/index.ts'
import { isShardIndexPath } from '../../formats/index.ts'
import {
  type FileVersion,
  inspectVersions,
  localVersions,
  revisionVersions,
} from '../../git/index.ts'
import { openRepoStore, type RepoContext, repoContext } from '../context.ts'
import { type CommandResult, formatBytes, type Io } from '../io.ts'
import { requireGit } from '../repo.ts'
import { quote } from '../text.ts'
import { group, terminalColors } from './diff-render.ts'
import { renderTensorTable } from './inspect-table.ts'

/** The versions' tensors, reading stubs' data from the store when there is one. */
async function inspectAll(ctx: RepoContext, files: FileVersion[], target: string, io: Io) {
  const needsStore = files.some((f) => f.stub) && ctx.storeDir !== undefined
  const store = needsStore ? await openRepoStore(ctx) : undefined
  try {
    return await inspectVersions(files, {
      store,
      sharded: isShardIndexPath(target),
      signal: io.signal,
      onProgress: io.onProgress,
    })
  } finally {
    await store?.close()
  }
}

/** `mlvc inspect FILE|REV:PATH`: a checkpoint's tensors with their statistics. */
export async function inspect(io: Io, [target]: [string]): Promise<CommandResult> {
  const ctx = await repoContext(io.cwd)
  const abs = resolve(io.cwd, target)
  const isFile = statSync(abs, { throwIfNoEntry: false })?.isFile() === true
  if (!isFile && !target.includes(':')) {
    throw new MlvcError('NOT_FOUND', `${target}: no such file`, {
      hint: 'give a file, or REV:PATH for a file stored by mlvc in a commit',
    })
  }
  const files = isFile
    ? await localVersions(
        abs,
        ctx.git?.workTree ? { workTree: ctx.git.workTree, gitDir: ctx.git.gitDir } : undefined,
      )
    : await revisionVersions(requireGit(ctx), target)
  const { format, rows } = await inspectAll(ctx, files, target, io)
  const parameters = rows.reduce((sum, r) => sum + r.elements, 0)
  const bytes = rows.reduce((sum, r) => sum + (r.bytes ?? 0), 0)
  const shards = files.length > 1 || isShardIndexPath(target) ? files.map((f) => f.path) : undefined
  const head = `${quote(target)}: ${format}${shards ? ` (${shards.length} shards)` : ''}, ${rows.length} tensors, ${group(parameters)} parameters, ${formatBytes(bytes)}`
  const lines = [head, ...renderTensorTable(rows, terminalColors())]
  if (rows.some((r) => r.rounded)) lines.push('  (statistics as the stub records them: 4 digits)')
  return {
    data: { target, format, ...(shards ? { shards } : {}), parameters, bytes, tensors: rows },
    text: lines.join('\n'),
  }
}
