import { createHash } from 'node:crypto'
import { closeSync, copyFileSync, openSync, renameSync, unlinkSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import {
  fsError,
  isErrno,
  MlvcError,
  type ProgressOptions,
  uniqueName,
  writeAllSync,
} from '../core/index.ts'
import { parseId, sha256Digest } from './cid.ts'
import { SLOT_DATA, SLOT_HEAD, SLOTS, withIngestPool } from './ingest-pool.ts'
import type { IngestReply } from './ingest-worker.ts'
import { type BlobManifest, decodeManifest } from './manifest.ts'
import type { Store } from './store.ts'

export interface MaterializeOptions extends ProgressOptions {
  /**
   * Where to write the temporary file before the rename: a folder on the same file system as the
   * target (in a work tree, the git dir, so an interrupted write never leaves a stray file among
   * the user's files). @default the target's folder
   */
  tmpDir?: string | undefined
}

export async function readManifest(store: Store, id: string): Promise<BlobManifest> {
  if (parseId(id).kind !== 'manifest') {
    throw new MlvcError('BAD_ID', `${id} is a chunk id, not a file id`, {
      hint: 'use the id that mlvc put printed',
    })
  }
  return decodeManifest(await store.readObject(id), id)
}

/** Reads the manifest's chunks [first, last) into `target`, back to back; returns the byte count. */
function readChunks(
  store: Store,
  manifest: BlobManifest,
  first: number,
  last: number,
  target: Uint8Array,
): number {
  let pos = 0
  for (let i = first; i < last; i++) {
    const [id, length] = manifest.chunks[i] as [string, number]
    const location = store.lookup(parseId(id).digest)
    if (!location) {
      throw new MlvcError(
        'MISSING_OBJECT',
        `chunk ${id} is missing from the store at ${store.layout.root}`,
        {
          hint: 'fetch it from a remote (mlvc pull), or run mlvc fsck',
        },
      )
    }
    if (location.length !== length) {
      throw new MlvcError(
        'CORRUPT',
        `chunk ${id}: the store holds ${location.length} bytes, the manifest says ${length}`,
      )
    }
    store.readPack(location.pack, location.offset, target.subarray(pos, pos + length))
    pos += length
  }
  return pos
}

/** After a whole-file mismatch: names the first chunk whose bytes do not match its id. */
function findBadChunk(store: Store, manifest: BlobManifest): string {
  for (const [id, length] of manifest.chunks) {
    const buf = Buffer.allocUnsafe(length)
    const location = store.lookup(parseId(id).digest)
    if (!location) return `chunk ${id} is missing`
    store.readPack(location.pack, location.offset, buf)
    if (!sha256Digest(buf).equals(parseId(id).digest)) {
      return `chunk ${id} in pack ${store.packs[location.pack]?.name} is corrupt`
    }
  }
  return 'the chunks are intact but do not add up to the file'
}

function checkWrite(reply: Extract<IngestReply, { type: 'write' }>): void {
  if (reply.error === undefined) return
  const err = new Error(reply.error) as NodeJS.ErrnoException
  if (reply.code !== undefined) err.code = reply.code
  throw err
}

/** Groups chunk indexes into batches of at most `limit` bytes. */
function batches(manifest: BlobManifest, limit: number): Array<[number, number]> {
  const out: Array<[number, number]> = []
  let first = 0
  let bytes = 0
  manifest.chunks.forEach(([, length], i) => {
    if (bytes + length > limit && i > first) {
      out.push([first, i])
      first = i
      bytes = 0
    }
    bytes += length
  })
  if (first < manifest.chunks.length) out.push([first, manifest.chunks.length])
  return out
}

async function writeChunks(
  store: Store,
  manifest: BlobManifest,
  fd: number,
  options: MaterializeOptions & { path: string },
): Promise<string> {
  if (manifest.size <= SLOT_DATA) {
    const data = Buffer.allocUnsafe(manifest.size)
    readChunks(store, manifest, 0, manifest.chunks.length, data)
    writeAllSync(fd, data)
    return createHash('sha256').update(data).digest('hex')
  }
  // Large files: the main thread reads chunks into ring slots in turn; one worker writes a slot
  // to the file while another hashes it, and the slot is reused once both are done. Reading and
  // writing are kernel copies of about equal cost, so running them on two threads halves the time.
  return withIngestPool(async (pool) => {
    pool.sha.tell({ type: 'sha-start' })
    let done = 0
    const hashing: Array<Promise<unknown>> = []
    for (const [index, [first, last]] of batches(manifest, SLOT_DATA).entries()) {
      if (options.signal?.aborted) {
        throw new MlvcError('INTERRUPTED', `interrupted while writing ${options.path}`)
      }
      const slot = index % SLOTS
      const start = slot * (SLOT_HEAD + SLOT_DATA)
      await hashing[slot]
      const target = pool.ring.subarray(start, start + SLOT_DATA)
      const n = readChunks(store, manifest, first, last, target)
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
      options.onProgress?.({ type: 'materialize', path: options.path, done, total: manifest.size })
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
 * Writes the file `id` names to `path`, atomically: a temporary file is verified against the
 * manifest's sha-256, then renamed over `path`.
 */
export async function materialize(
  store: Store,
  id: string,
  path: string,
  options: MaterializeOptions = {},
): Promise<BlobManifest> {
  const manifest = await readManifest(store, id)
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
      sha256 = await writeChunks(store, manifest, fd, { ...options, path })
    } finally {
      closeSync(fd)
    }
    if (sha256 !== manifest.sha256) {
      throw new MlvcError(
        'CORRUPT',
        `${path}: reconstructed bytes do not match ${id}: ${findBadChunk(store, manifest)}`,
        {
          hint: 'run mlvc fsck; fetch the object again from a remote',
        },
      )
    }
    try {
      renameSync(tmp, path)
    } catch (err) {
      if (!isErrno(err, 'EXDEV')) throw err
      // tmpDir turned out to be on another file system: copy beside the target, then rename.
      const beside = join(dirname(path), `.${basename(path)}.${uniqueName('mlvc')}`)
      copyFileSync(tmp, beside)
      renameSync(beside, path)
      unlinkSync(tmp)
    }
  } catch (err) {
    try {
      unlinkSync(tmp)
    } catch {}
    throw fsError(err, 'writing', path)
  }
  return manifest
}

/** A small file's whole content, in memory, verified against its sha256. */
export async function readBlob(store: Store, id: string): Promise<Buffer> {
  const manifest = await readManifest(store, id)
  const data = Buffer.allocUnsafe(manifest.size)
  readChunks(store, manifest, 0, manifest.chunks.length, data)
  if (createHash('sha256').update(data).digest('hex') !== manifest.sha256) {
    throw new MlvcError(
      'CORRUPT',
      `${id}: reconstructed bytes do not match: ${findBadChunk(store, manifest)}`,
      {
        hint: 'run mlvc fsck; fetch the object again from a remote',
      },
    )
  }
  return data
}

/** True when the manifest and every chunk it lists are in the store. */
export async function hasBlob(store: Store, id: string): Promise<boolean> {
  if (!(await store.has(id))) return false
  const manifest = await readManifest(store, id)
  return manifest.chunks.every(([chunk]) => store.lookup(parseId(chunk).digest) !== undefined)
}
