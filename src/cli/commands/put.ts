import { resolve } from 'node:path'
import { ingestCheckpoint } from '../../checkpoint/index.ts'
import { pin } from '../../store/index.ts'
import { repoContext, withRepoStore } from '../context.ts'
import { type CommandResult, formatBytes, type Io } from '../io.ts'
import { quote } from '../text.ts'

export interface PutOptions {
  pin: boolean
}

/**
 * Stores files (checkpoints tensor by tensor); prints one id per file. The objects are committed
 * before the ids are reported.
 */
export async function put(
  io: Io,
  [files]: [string[]],
  options: PutOptions,
): Promise<CommandResult> {
  const results = await withRepoStore(await repoContext(io.cwd), async (store) => {
    const stored = []
    for (const file of files) {
      const { meta, note, ...result } = await ingestCheckpoint(
        store,
        resolve(io.cwd, file),
        undefined,
        {
          signal: io.signal,
          onProgress: io.onProgress,
        },
      )
      if (note) io.warn(`mlvc: ${quote(file)}: stored as a plain file: ${note}`)
      stored.push({
        path: file,
        ...result,
        format: meta?.format ?? null,
        tensors: meta?.tensors.length ?? null,
      })
    }
    await store.commit()
    if (options.pin) for (const result of stored) await pin(store, result.id)
    return stored
  })
  if (results.length > 0 && !io.json) {
    const added = results.reduce((sum, r) => sum + r.stored, 0)
    const total = results.reduce((sum, r) => sum + r.size, 0)
    io.warn(`stored ${formatBytes(total)} in ${results.length} file(s); ${formatBytes(added)} new`)
  }
  const lines = results.map(
    (r) => `${r.id}  ${quote(r.path)}${r.format ? ` (${r.format}, ${r.tensors} tensors)` : ''}`,
  )
  return { data: results, text: lines.join('\n') }
}
