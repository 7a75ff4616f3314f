import { createHash } from 'node:crypto'
import { MlvcError } from '../core/index.ts'
import { formatId, idOf, isIdOf, sha256Digest } from './cid.ts'
import type { DigestList } from './digest-list.ts'
import type { Store } from './store.ts'

/** [chunk id, length] in order. */
export type ChunkRef = [string, number]

/**
 * A file as its chunks in order plus the sha-256 of the whole, checked on every reconstruction.
 * All manifests are compact JSON with a fixed key order, so equal content gives equal ids.
 */
export interface BlobManifest {
  type: 'blob'
  size: number
  /** Hex sha-256 of the whole file. */
  sha256: string
  chunks: ChunkRef[]
}

/**
 * A stretch of bytes (a tensor's data) as its chunks. Its id names the bytes: equal bytes cut at
 * the same boundaries give the same chunks, so the same id, whatever file they sit in.
 */
export interface PartManifest {
  type: 'part'
  size: number
  chunks: ChunkRef[]
}

/**
 * A stretch of bytes stored as an exact sparse patch (tensors' delta format) against `base`, a part
 * or another delta. `content` is the part id the result would have if stored whole: it names the
 * bytes however they are stored. `depth` counts the deltas down to a whole part.
 */
export interface DeltaManifest {
  type: 'delta'
  size: number
  content: string
  base: string
  /** Element type whose size the patch indexes by ('U8' for plain bytes). */
  dtype: string
  depth: number
  patch: ChunkRef[]
}

/** A piece of a file: chunks given inline, or a part or delta manifest by id. */
export type FilePart = { chunks: ChunkRef[] } | { ref: string; size: number }

/**
 * A file assembled from parts (a checkpoint: the bytes between tensors inline, each tensor's data
 * by reference). `meta` is what the layer that wrote it needs to read it back (format and tensor
 * table); the store only keeps it.
 */
export interface FileManifest {
  type: 'file'
  size: number
  sha256: string
  parts: FilePart[]
  meta: unknown
  /**
   * A manifest (of a blob) holding what `meta` would be too large to hold inline: a checkpoint's
   * tensor table when it has very many tensors. It belongs to the file like its parts do, so
   * transfers, gc and fsck follow it.
   */
  table?: string
}

export type Manifest = BlobManifest | PartManifest | DeltaManifest | FileManifest

/**
 * Encodes a blob manifest straight from a chunk list, without building [id, length] pairs first;
 * the bytes equal encodeManifest's for the same content.
 */
export function encodeBlobManifest(size: number, sha256: string, chunks: DigestList): Buffer {
  const head = `{"mlvc":1,"type":"blob","size":${size},"sha256":"${sha256}","chunks":[`
  return encodeWithChunks(head, chunks, 0, chunks.count)
}

/**
 * Encodes the part manifest of chunks first..last-1 of a list straight from it; the bytes equal
 * encodeManifest's for the same part (a checkpoint stores one per tensor).
 */
const partHead = (size: number) => `{"mlvc":1,"type":"part","size":${size},"chunks":[`

export function encodePartManifest(
  size: number,
  chunks: DigestList,
  first: number,
  last: number,
): Buffer {
  return encodeWithChunks(partHead(size), chunks, first, last)
}

/**
 * The id of the part manifest that would hold `data` as one chunk, without storing anything: the
 * content id of a tensor too small to be a part of its own (encodePartManifest's bytes for it).
 */
export function onePartId(data: Uint8Array): string {
  const chunk = formatId('chunk', sha256Digest(data))
  return idOf('manifest', Buffer.from(`${partHead(data.length)}["${chunk}",${data.length}]]}`))
}

function encodeWithChunks(head: string, chunks: DigestList, first: number, last: number): Buffer {
  // Each entry: ["<59-char id>",<length up to 10 digits>] plus a comma.
  const out = Buffer.allocUnsafe(head.length + (last - first) * 76 + 2)
  let pos = out.write(head, 0, 'latin1')
  for (let i = first; i < last; i++) {
    pos += out.write(
      `${i === first ? '' : ','}["${formatId('chunk', chunks.digest(i))}",${chunks.length(i)}]`,
      pos,
      'latin1',
    )
  }
  pos += out.write(']}', pos, 'latin1')
  return out.subarray(0, pos)
}

/**
 * Builds a file manifest's bytes part by part, holding no object per part (a checkpoint of
 * 200,000 tensors has as many parts). The bytes equal encodeManifest's for the same manifest.
 */
export interface FileManifestBuilder {
  /** Chunks first..last-1 of a list, inline. */
  addChunks(chunks: DigestList, first: number, last: number): void
  /** A part or delta manifest by id. */
  addRef(ref: string, size: number): void
  finish(meta: unknown, table?: string): Buffer
  /** Finishes and stores the manifest (as Store.putObject, without joining its pieces). */
  put(store: Store, meta: unknown, table?: string): string
}

export function fileManifestBuilder(size: number, sha256: string): FileManifestBuilder {
  const out = textBuilder()
  out.write(`{"mlvc":1,"type":"file","size":${size},"sha256":"${sha256}","parts":[`)
  let count = 0
  const comma = () => (count++ === 0 ? '' : ',')
  return {
    addChunks(chunks, first, last) {
      out.write(`${comma()}{"chunks":[`)
      for (let i = first; i < last; i++)
        out.write(
          `${i === first ? '' : ','}["${formatId('chunk', chunks.digest(i))}",${chunks.length(i)}]`,
        )
      out.write(']}')
    },
    addRef(ref, partSize) {
      out.write(`${comma()}{"ref":"${ref}","size":${partSize}}`)
    },
    finish(meta, table) {
      return Buffer.concat(end(meta, table))
    },
    put(store, meta, table) {
      const pieces = end(meta, table)
      const hash = createHash('sha256')
      for (const piece of pieces) hash.update(piece)
      const digest = hash.digest()
      const known = store.lookup(digest)
      if (known) store.freshen(known.pack)
      else store.addObject(digest, 'manifest', pieces)
      return formatId('manifest', digest)
    },
  }
  function end(meta: unknown, table: string | undefined): Buffer[] {
    out.write(`],"meta":`)
    out.write(JSON.stringify(meta), 'utf8')
    out.write(table === undefined ? '}' : `,"table":"${table}"}`)
    return out.finish()
  }
}

/** Text appended into 1 MiB blocks, joined once at the end. */
function textBuilder() {
  const BLOCK = 1024 * 1024
  const full: Buffer[] = []
  let block = Buffer.allocUnsafe(BLOCK)
  let used = 0
  return {
    write(text: string, encoding: 'latin1' | 'utf8' = 'latin1') {
      const length = Buffer.byteLength(text, encoding)
      if (used + length > block.length) {
        full.push(block.subarray(0, used))
        block = Buffer.allocUnsafe(Math.max(BLOCK, length))
        used = 0
      }
      used += block.write(text, used, encoding)
    },
    finish: () => [...full, block.subarray(0, used)],
  }
}

/** The [id, length] pairs of chunks first..last-1 of a list. */
export function chunkRefs(chunks: DigestList, first = 0, last = chunks.count): ChunkRef[] {
  const refs: ChunkRef[] = []
  for (let i = first; i < last; i++)
    refs.push([formatId('chunk', chunks.digest(i)), chunks.length(i)])
  return refs
}

export function encodeManifest(manifest: Manifest): Buffer {
  switch (manifest.type) {
    case 'blob':
      return Buffer.from(
        JSON.stringify({
          mlvc: 1,
          type: 'blob',
          size: manifest.size,
          sha256: manifest.sha256,
          chunks: manifest.chunks,
        }),
      )
    case 'part':
      return Buffer.from(
        JSON.stringify({ mlvc: 1, type: 'part', size: manifest.size, chunks: manifest.chunks }),
      )
    case 'delta': {
      const { size, content, base, dtype, depth, patch } = manifest
      return Buffer.from(
        JSON.stringify({ mlvc: 1, type: 'delta', size, content, base, dtype, depth, patch }),
      )
    }
    case 'file': {
      const parts = manifest.parts.map((p) =>
        'chunks' in p ? { chunks: p.chunks } : { ref: p.ref, size: p.size },
      )
      const { size, sha256, meta, table } = manifest
      const fields = { mlvc: 1, type: 'file', size, sha256, parts, meta }
      return Buffer.from(JSON.stringify(table === undefined ? fields : { ...fields, table }))
    }
  }
}

function fail(id: string, what: string): never {
  throw new MlvcError('CORRUPT', `manifest ${id}: ${what}`, { hint: 'run mlvc fsck' })
}

function checkSize(id: string, value: unknown, what = 'size'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    fail(id, `bad ${what}`)
  return value
}

function checkSha(id: string, value: unknown): string {
  if (typeof value !== 'string' || !/^[0-9a-f]{64}$/.test(value)) fail(id, 'bad sha256')
  return value
}

function checkManifestId(id: string, value: unknown, what: string): string {
  if (typeof value !== 'string' || !isIdOf('manifest', value)) fail(id, `bad ${what} id`)
  return value
}

/** Validates a chunk list; returns it with the byte total. */
function checkChunks(id: string, value: unknown): { chunks: ChunkRef[]; total: number } {
  if (!Array.isArray(value)) fail(id, 'bad chunk list')
  let total = 0
  for (const entry of value as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 2) fail(id, 'bad chunk entry')
    const [chunk, length] = entry as [unknown, unknown]
    if (typeof chunk !== 'string' || !isIdOf('chunk', chunk)) fail(id, 'bad chunk id')
    if (typeof length !== 'number' || !Number.isSafeInteger(length) || length <= 0)
      fail(id, 'bad chunk length')
    total += length
  }
  return { chunks: value as ChunkRef[], total }
}

function decodeParts(id: string, value: unknown): { parts: FilePart[]; total: number } {
  if (!Array.isArray(value)) fail(id, 'bad part list')
  let total = 0
  const parts: FilePart[] = []
  for (const entry of value as unknown[]) {
    const part = entry as Record<string, unknown>
    if (typeof part !== 'object' || part === null) fail(id, 'bad part')
    if ('chunks' in part) {
      const { chunks, total: n } = checkChunks(id, part.chunks)
      parts.push({ chunks })
      total += n
    } else {
      const size = checkSize(id, part.size, 'part size')
      parts.push({ ref: checkManifestId(id, part.ref, 'part'), size })
      total += size
    }
  }
  return { parts, total }
}

/** Parses and validates a manifest: every field typed, every id valid, sizes consistent. */
export function decodeManifest(data: Uint8Array, id: string): Manifest {
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(data).toString('utf8'))
  } catch {
    fail(id, 'not JSON')
  }
  const m = value as Record<string, unknown>
  if (typeof m !== 'object' || m === null || m.mlvc !== 1) fail(id, 'not an mlvc manifest (v1)')
  const size = checkSize(id, m.size)
  switch (m.type) {
    case 'blob':
    case 'part': {
      const { chunks, total } = checkChunks(id, m.chunks)
      if (total !== size) fail(id, `chunks add up to ${total} bytes, size says ${size}`)
      return m.type === 'blob'
        ? { type: 'blob', size, sha256: checkSha(id, m.sha256), chunks }
        : { type: 'part', size, chunks }
    }
    case 'delta': {
      const { chunks: patch } = checkChunks(id, m.patch)
      if (typeof m.dtype !== 'string' || m.dtype.length > 16) fail(id, 'bad dtype')
      const depth = checkSize(id, m.depth, 'depth')
      const content = checkManifestId(id, m.content, 'content')
      return {
        type: 'delta',
        size,
        content,
        base: checkManifestId(id, m.base, 'base'),
        dtype: m.dtype,
        depth,
        patch,
      }
    }
    case 'file': {
      const { parts, total } = decodeParts(id, m.parts)
      if (total !== size) fail(id, `parts add up to ${total} bytes, size says ${size}`)
      const file: FileManifest = {
        type: 'file',
        size,
        sha256: checkSha(id, m.sha256),
        parts,
        meta: m.meta ?? null,
      }
      if (m.table !== undefined) file.table = checkManifestId(id, m.table, 'table')
      return file
    }
    default:
      fail(id, `unknown manifest type ${String(m.type)}`)
  }
}

/** The ids a manifest refers to (what gc keeps alive, transfers send and fsck checks). */
export function manifestReferences(manifest: Manifest): string[] {
  switch (manifest.type) {
    case 'blob':
    case 'part':
      return manifest.chunks.map(([id]) => id)
    case 'delta':
      return [manifest.base, ...manifest.patch.map(([id]) => id)]
    case 'file': {
      const ids: string[] = []
      for (const p of manifest.parts) {
        if ('chunks' in p) for (const [id] of p.chunks) ids.push(id)
        else ids.push(p.ref)
      }
      if (manifest.table !== undefined) ids.push(manifest.table)
      return ids
    }
  }
}
