import { resolve } from 'node:path'
import { type IngestResult, ingestFile, pin } from '../../store/index.ts'
import { openRepoStore, repoContext } from '../context.ts'
import { type CommandResult, formatBytes, type Io } from '../io.ts'

export interface PutOptions {
  pin: boolean
}

/** Stores files; prints one id per file. The objects are committed before the ids are reported. */
export async function put(files: string[], options: PutOptions, io: Io): Promise<CommandResult> {
  const store = await openRepoStore(await repoContext(io.cwd))
  const results: Array<IngestResult & { path: string }> = []
  try {
    for (const file of files) {
      const path = resolve(io.cwd, file)
      const result = await ingestFile(store, path, { signal: io.signal, onProgress: io.onProgress })
      results.push({ path: file, ...result })
    }
    await store.commit()
    if (options.pin) for (const result of results) await pin(store, result.id)
  } finally {
    await store.close()
  }
  const lines = results.map((r) => `${r.id}  ${r.path}`)
  if (results.length > 0 && !io.quiet) {
    const added = results.reduce((sum, r) => sum + r.newBytes, 0)
    const total = results.reduce((sum, r) => sum + r.size, 0)
    io.warn(`stored ${formatBytes(total)} in ${results.length} file(s); ${formatBytes(added)} new`)
  }
  return { data: results, text: lines.join('\n') }
}
