import { closeSync, linkSync, openSync, renameSync, rmSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { fsError, MlvcError, uniqueName, writeAllSync } from '../core/index.ts'
import {
  type ByteSource,
  chunkSource,
  DEFAULT_CDC,
  formatId,
  hex,
  materialize,
  parseId,
  putContentManifest,
  readManifest,
  type Store,
} from '../store/index.ts'

/** Files up to this size are stored as one chunk: the largest a content-defined chunk can be. */
const WHOLE = DEFAULT_CDC.maxSize
const WHOLE_FILE = { minSize: WHOLE, avgSize: WHOLE, maxSize: WHOLE }

/**
 * A file's content id in an entity manifest. A file of one chunk is named by that chunk's id: the
 * chunk's sha-256 is the file's, so no blob manifest is stored for it (a manifest, its pack
 * record and its index entry: about 290 bytes). Files up to 256 KiB (most dataset files: images,
 * labels, text) are stored whole as one chunk rather than cut at content-defined points: a
 * version dedups them as whole files, and each costs one object. Larger files are chunked as
 * usual (a small edit stores about the edit) and get a blob manifest.
 */
export async function storeContent(
  store: Store,
  source: ByteSource,
  path: string,
  signal?: AbortSignal,
) {
  const whole = source.size !== undefined && source.size <= WHOLE
  const content = await chunkSource(store, source, {
    path,
    signal,
    ...(whole ? { cdc: WHOLE_FILE } : {}),
  })
  const id =
    content.chunks.count === 1
      ? formatId('chunk', content.chunks.digest(0))
      : putContentManifest(store, content.size, content.sha256, content.chunks)
  return { id, size: content.size, sha256: content.sha256, newBytes: content.newBytes }
}

/** The sha-256 (hex) of the file an entity id names. */
export async function contentSha256(store: Store, id: string): Promise<string> {
  const { kind, digest } = parseId(id)
  if (kind === 'chunk') return hex(digest)
  const manifest = await readManifest(store, id)
  if (!('sha256' in manifest))
    throw new MlvcError('CORRUPT', `${id} is not the manifest of a whole file`, {
      hint: 'run mlvc fsck',
    })
  return manifest.sha256
}

/**
 * Writes the file an entity id names to `path` (atomically: a temporary file in `tmpDir`, checked,
 * then renamed; an existing regular file is replaced only when `replace` allows it).
 */
export async function writeContent(
  store: Store,
  id: string,
  path: string,
  options: { tmpDir: string; replace: 'any' | 'file' | 'none' },
): Promise<void> {
  if (parseId(id).kind !== 'chunk') {
    await materialize(store, id, path, options)
    return
  }
  // readObject checks the bytes against the id: the file's sha-256.
  const data = await store.readObject(id)
  const tmp = join(options.tmpDir, uniqueName('chunk'))
  try {
    const fd = openSync(tmp, 'wx')
    try {
      writeAllSync(fd, data)
    } finally {
      closeSync(fd)
    }
    if (options.replace === 'none') {
      linkSync(tmp, path)
      unlinkSync(tmp)
    } else renameSync(tmp, path)
  } catch (err) {
    rmSync(tmp, { force: true })
    throw fsError(err, 'writing', path)
  }
}
