import { statSync } from 'node:fs'
import { resolve } from 'node:path'
import { checkpointsStorage, describeStorage, storageOf } from '../../checkpoint/index.ts'
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

/**
 * The versions' tensors, reading stubs' data from the store when there is one; with `storage`,
 * also how each tensor's bytes are stored.
 */
async function inspectAll(
  ctx: RepoContext,
  files: FileVersion[],
  target: string,
  io: Io,
  storage: boolean,
) {
  const needsStore = files.some((f) => f.stub) && ctx.storeDir !== undefined
  const store = needsStore ? await openRepoStore(ctx) : undefined
  try {
    const inspected = await inspectVersions(files, {
      store,
      sharded: isShardIndexPath(target),
      signal: io.signal,
      onProgress: io.onProgress,
    })
    const ids = files.flatMap((f) => (f.stub ? [f.stub.id] : []))
    if (storage && store && ids.length > 0) {
      const stored = await checkpointsStorage(store, ids)
      for (const row of inspected.rows) {
        const how = storageOf(stored, row.content, row.bytes)
        if (how) row.storage = { kind: describeStorage(how), stored: how.stored }
      }
    }
    return inspected
  } finally {
    await store?.close()
  }
}

/** `mlvc inspect FILE|REV:PATH`: a checkpoint's tensors with their statistics. */
export async function inspect(
  io: Io,
  [target]: [string],
  options: { storage?: boolean } = {},
): Promise<CommandResult> {
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
  const { format, rows } = await inspectAll(ctx, files, target, io, options.storage === true)
  if (options.storage && !rows.some((r) => r.storage)) {
    throw new MlvcError(
      'USAGE',
      `${quote(target)}: not in the store, so there is no storage to show`,
      {
        hint: 'inspect a file mlvc stores (git add it, or REV:PATH of a committed one)',
      },
    )
  }
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
