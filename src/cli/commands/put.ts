import { resolve } from 'node:path'
import { type IngestResult, ingestFile, pin } from '../../store/index.ts'
import { repoContext, withRepoStore } from '../context.ts'
import { type CommandResult, formatBytes, type Io } from '../io.ts'

export interface PutOptions {
  pin: boolean
}

/** Stores files; prints one id per file. The objects are committed before the ids are reported. */
export async function put(files: string[], options: PutOptions, io: Io): Promise<CommandResult> {
  const results = await withRepoStore(await repoContext(io.cwd), async (store) => {
    const stored: Array<IngestResult & { path: string }> = []
    for (const file of files) {
      const result = await ingestFile(store, resolve(io.cwd, file), {
        signal: io.signal,
        onProgress: io.onProgress,
      })
      stored.push({ path: file, ...result })
    }
    await store.commit()
    if (options.pin) for (const result of stored) await pin(store, result.id)
    return stored
  })
  if (results.length > 0 && !io.json) {
    const added = results.reduce((sum, r) => sum + r.newBytes, 0)
    const total = results.reduce((sum, r) => sum + r.size, 0)
    io.warn(`stored ${formatBytes(total)} in ${results.length} file(s); ${formatBytes(added)} new`)
  }
  return { data: results, text: results.map((r) => `${r.id}  ${r.path}`).join('\n') }
}
