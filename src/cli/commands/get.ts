import { resolve } from 'node:path'
import { tensorDeltas } from '../../checkpoint/index.ts'
import { checkWriteTarget, MlvcError } from '../../core/index.ts'
import { materialize, streamContent } from '../../store/index.ts'
import { repoContext, withRepoStore } from '../context.ts'
import { type CommandResult, type Io, writeToStdout } from '../io.ts'

/** `-`: the content goes to standard output, each chunk verified before it is written. */
async function getToStdout(id: string, io: Io): Promise<CommandResult> {
  if (io.json) {
    throw new MlvcError('USAGE', 'mlvc get ID - writes the file to standard output, not JSON', {
      hint: 'drop --json, or name an output file',
    })
  }
  await withRepoStore(await repoContext(io.cwd), (store) =>
    writeToStdout(streamContent(store, id, { deltas: tensorDeltas(), signal: io.signal })),
  )
  return { data: { id, path: '-' }, text: '' }
}

/**
 * Writes the file an id names to OUT, verified. OUT must be a new path, or with --force a regular
 * file; `-` is standard output.
 */
export async function get(
  io: Io,
  [id, out]: [string, string],
  options: { force?: boolean | undefined },
): Promise<CommandResult> {
  if (out === '-') return getToStdout(id, io)
  const path = resolve(io.cwd, out)
  const replace = options.force === true ? 'file' : 'none'
  checkWriteTarget(path, replace)
  const manifest = await withRepoStore(await repoContext(io.cwd), (store) =>
    materialize(store, id, path, {
      signal: io.signal,
      onProgress: io.onProgress,
      deltas: tensorDeltas(),
      replace,
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
