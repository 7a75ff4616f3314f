import { createHash } from 'node:crypto'
import { closeSync, copyFileSync, openSync, rmSync, unlinkSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import {
  checkWriteTarget,
  fileError,
  fsError,
  isErrno,
  MlvcError,
  type ProgressOptions,
  placeFile,
  type ReplaceRule,
  sha256Hex,
  uniqueName,
  writeAllSync,
} from '../core/index.ts'
import { blocks, type ContentOptions, contentSource, readChunk, readManifest } from './content.ts'
import { SLOT_DATA, SLOT_HEAD, SLOTS, withIngestPool } from './ingest-pool.ts'
import type { IngestReply } from './ingest-worker.ts'
import type { ChunkRef, Manifest } from './manifest.ts'
import { claimReady } from './ready.ts'
import type { ByteSource } from './source.ts'
import { REPAIR_HINT, type Store } from './store.ts'

export interface MaterializeOptions extends ProgressOptions, ContentOptions {
  /**
   * Where to write the temporary file before the rename: a folder on the same file system as the
   * target (in a work tree, the git dir, so an interrupted write never leaves a stray file among
   * the user's files). @default the target's folder
   */
  tmpDir?: string | undefined
  /** What may be at the target already (see ReplaceRule). @default 'file' */
  replace?: ReplaceRule | undefined
  /**
   * Moves the verified temporary file into place instead of a rename to the target path; returns
   * false to leave it (it is then removed). For writers that check the target right before
   * replacing it (a work tree the user may change meanwhile).
   */
  place?: ((tmp: string) => boolean) | undefined
}

/** Every chunk a manifest's content is made of, through parts and deltas (patches and bases). */
async function* chunksOf(store: Store, manifest: Manifest): AsyncIterable<ChunkRef> {
  switch (manifest.type) {
    case 'blob':
    case 'part':
      yield* manifest.chunks
      return
    case 'delta':
      yield* manifest.patch
      yield* chunksOf(store, await readManifest(store, manifest.base))
      return
    case 'file':
      for (const part of manifest.parts) {
        if ('chunks' in part) yield* part.chunks
        else yield* chunksOf(store, await readManifest(store, part.ref))
      }
  }
}

/**
 * After a whole-file mismatch: the first damaged object the content is built from (a manifest it
 * uses, or a chunk), named with its pack and offset; reading it records the damage for repair.
 */
async function findDamage(store: Store, manifest: Manifest): Promise<string> {
  try {
    for await (const chunk of chunksOf(store, manifest)) readChunk(store, chunk)
  } catch (err) {
    return (err as Error).message
  }
  return 'every object it is built from checks out, so the manifest itself is inconsistent'
}

function checkWrite(reply: Extract<IngestReply, { type: 'write' }>): void {
  if (reply.error === undefined) return
  const err = new Error(reply.error) as NodeJS.ErrnoException
  if (reply.code !== undefined) err.code = reply.code
  throw err
}

async function writeContent(
  source: ByteSource,
  size: number,
  fd: number,
  options: MaterializeOptions & { path: string },
): Promise<string> {
  if (size <= SLOT_DATA) {
    const data = Buffer.allocUnsafe(size)
    const n = await source.read(data)
    writeAllSync(fd, data.subarray(0, n))
    return sha256Hex(data.subarray(0, n))
  }
  // Large files: the main thread reads content into ring slots in turn; one worker writes a slot
  // to the file while another hashes it, and the slot is reused once both are done. Reading and
  // writing are kernel copies of about equal cost, so running them on two threads halves the time.
  return withIngestPool(async (pool) => {
    pool.sha.tell({ type: 'sha-start' })
    let done = 0
    const hashing: Array<Promise<unknown>> = []
    for (let index = 0; ; index++) {
      if (options.signal?.aborted)
        throw new MlvcError('INTERRUPTED', `interrupted while writing ${options.path}`)
      const slot = index % SLOTS
      const start = slot * (SLOT_HEAD + SLOT_DATA)
      await hashing[slot]
      const n = await source.read(pool.ring.subarray(start, start + SLOT_DATA))
      if (n === 0) break
      const hashed = pool.sha.ask({ type: 'sha', id: index, from: start, to: start + n })
      const write = {
        type: 'write',
        id: index,
        fd,
        position: done,
        from: start,
        to: start + n,
      } as const
      const written = pool.cdc.ask<Extract<IngestReply, { type: 'write' }>>(write).then(checkWrite)
      const both = Promise.all([hashed, written])
      // Awaited when the slot comes round again; until then a failure must not count as unhandled.
      both.catch(() => undefined)
      hashing[slot] = both
      done += n
      options.onProgress?.({ type: 'materialize', path: options.path, done, total: size })
    }
    await Promise.all(hashing)
    const end = await pool.sha.ask<Extract<IngestReply, { type: 'sha-end' }>>({
      type: 'sha-end',
      id: -1,
    })
    return Buffer.from(end.digest).toString('hex')
  })
}

/**
 * Renames `tmp` to `path` under `rule` (see core's placeFile); when tmp is on another file system,
 * copies it beside `path` first.
 */
export function placeContent(tmp: string, path: string, rule: ReplaceRule): true {
  try {
    placeFile(tmp, path, rule)
  } catch (err) {
    if (!isErrno(err, 'EXDEV')) throw err
    // tmpDir turned out to be on another file system: copy beside the target, then place.
    const beside = join(dirname(path), `.${basename(path)}.${uniqueName('mlvc')}`)
    copyFileSync(tmp, beside)
    try {
      placeFile(beside, path, rule)
    } catch (inner) {
      rmSync(beside, { force: true })
      throw inner
    }
    unlinkSync(tmp)
  }
  return true
}

/**
 * Writes the content an id names to `path`, atomically: a temporary file is checked against the
 * file's sha-256 (blob and file manifests; a bare part is checked chunk by chunk), then renamed
 * over `path` (only over what `options.replace` allows) or handed to `options.place`. A ready file of the id (see ready.ts) is
 * moved there instead.
 */
export async function materialize(
  store: Store,
  id: string,
  path: string,
  options: MaterializeOptions = {},
): Promise<Manifest> {
  const rule = options.replace ?? 'file'
  // A caller's `place` checks its own target (a work tree's path is relative to its root).
  if (!options.place) checkWriteTarget(path, rule)
  const manifest = await readManifest(store, id)
  const place = options.place ?? ((tmp: string) => placeContent(tmp, path, rule))
  const ready = claimReady(store, id, manifest.size)
  if (ready) {
    try {
      if (!place(ready)) rmSync(ready, { force: true })
    } catch (err) {
      rmSync(ready, { force: true })
      throw fsError(err, 'writing', path)
    }
    return manifest
  }
  const expected = 'sha256' in manifest ? manifest.sha256 : undefined
  const source = contentSource(store, manifest, {
    deltas: options.deltas,
    verifyChunks: expected === undefined,
  })
  const tmp = join(options.tmpDir ?? dirname(path), `.${basename(path)}.${uniqueName('mlvc')}`)
  let fd: number
  try {
    fd = openSync(tmp, 'wx')
  } catch (err) {
    throw fsError(err, 'writing', path)
  }
  try {
    let sha256: string
    try {
      sha256 = await writeContent(source, manifest.size, fd, { ...options, path })
    } finally {
      closeSync(fd)
    }
    if (expected !== undefined && sha256 !== expected) {
      const damage = await findDamage(store, manifest)
      throw fileError('CORRUPT', path, `reconstructed bytes do not match ${id}: ${damage}`, {
        hint: REPAIR_HINT,
      })
    }
    if (!place(tmp)) unlinkSync(tmp)
  } catch (err) {
    try {
      unlinkSync(tmp)
    } catch {}
    throw fsError(err, 'writing', path)
  }
  return manifest
}

/** A small file's whole content, in memory, verified against its sha256. */
export async function readBlob(
  store: Store,
  id: string,
  options: ContentOptions = {},
): Promise<Buffer> {
  const manifest = await readManifest(store, id)
  const data = Buffer.allocUnsafe(manifest.size)
  await contentSource(store, manifest, options).read(data)
  if ('sha256' in manifest && sha256Hex(data) !== manifest.sha256) {
    throw new MlvcError(
      'CORRUPT',
      `${id}: reconstructed bytes do not match: ${await findDamage(store, manifest)}`,
      { hint: REPAIR_HINT },
    )
  }
  return data
}

/**
 * The content an id names, front to back, for a consumer that cannot take bytes back (a pipe):
 * every chunk is checked against its id before any of its bytes are yielded, and the whole
 * against the file's sha-256 after the last block. A failure throws CORRUPT; the consumer has
 * then received a correct prefix of the content.
 */
export async function* streamContent(
  store: Store,
  id: string,
  options: ContentOptions & { signal?: AbortSignal | undefined } = {},
): AsyncIterable<Uint8Array> {
  const manifest = await readManifest(store, id)
  const source = contentSource(store, manifest, { deltas: options.deltas, verifyChunks: true })
  const hash = createHash('sha256')
  let done = 0
  for await (const block of blocks(source)) {
    if (options.signal?.aborted)
      throw new MlvcError('INTERRUPTED', `interrupted while reading ${id}`)
    hash.update(block)
    done += block.length
    yield block
  }
  const digest = hash.digest('hex')
  if (done !== manifest.size || ('sha256' in manifest && digest !== manifest.sha256)) {
    throw new MlvcError(
      'CORRUPT',
      `${id}: the ${done} bytes read back do not match the stored file: ${await findDamage(store, manifest)}`,
      { hint: REPAIR_HINT },
    )
  }
}

export { blocks }
