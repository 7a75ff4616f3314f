import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { tensorDeltas } from '../../checkpoint/index.ts'
import { MlvcError } from '../../core/index.ts'
import { materialize } from '../../store/index.ts'
import { repoContext, withRepoStore } from '../context.ts'
import type { CommandResult, Io } from '../io.ts'

/** Writes the file an id names to OUT, verified; an existing OUT is replaced only with --force. */
export async function get(
  id: string,
  out: string,
  options: { force: boolean },
  io: Io,
): Promise<CommandResult> {
  const path = resolve(io.cwd, out)
  if (existsSync(path) && !options.force) {
    throw new MlvcError('USAGE', `${out} already exists`, { hint: 'pass --force to replace it' })
  }
  const manifest = await withRepoStore(await repoContext(io.cwd), (store) =>
    materialize(store, id, path, {
      signal: io.signal,
      onProgress: io.onProgress,
      deltas: tensorDeltas(),
    }),
  )
  return {
    data: {
      id,
      path: out,
      size: manifest.size,
      sha256: 'sha256' in manifest ? manifest.sha256 : undefined,
    },
    text: '',
  }
}
