import { MlvcError } from '../core/index.ts'
import { formatId, parseId } from './cid.ts'
import type { DigestList } from './digest-list.ts'

/**
 * The recipe of one file: its chunks in order and the sha-256 of the whole, checked on every
 * reconstruction. Serialized as compact JSON with a fixed key order, so equal files give equal
 * manifests and equal ids.
 */
export interface BlobManifest {
  type: 'blob'
  size: number
  /** Hex sha-256 of the whole file. */
  sha256: string
  /** [chunk id, length] in file order. */
  chunks: Array<[string, number]>
}

/** Any manifest; later kinds (checkpoints, datasets) add members to this union. */
export type Manifest = BlobManifest

/**
 * Encodes a blob manifest straight from a chunk list, without building [id, length] pairs first;
 * the bytes equal encodeManifest's for the same content.
 */
export function encodeBlobManifest(size: number, sha256: string, chunks: DigestList): Buffer {
  const head = `{"mlvc":1,"type":"blob","size":${size},"sha256":"${sha256}","chunks":[`
  // Each entry: ["<59-char id>",<length up to 10 digits>] plus a comma.
  const out = Buffer.allocUnsafe(head.length + chunks.count * 76 + 2)
  let pos = out.write(head, 0, 'latin1')
  for (let i = 0; i < chunks.count; i++) {
    pos += out.write(
      `${i === 0 ? '' : ','}["${formatId('chunk', chunks.digest(i))}",${chunks.length(i)}]`,
      pos,
      'latin1',
    )
  }
  pos += out.write(']}', pos, 'latin1')
  return out.subarray(0, pos)
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
  }
}

function fail(id: string, what: string): never {
  throw new MlvcError('CORRUPT', `manifest ${id}: ${what}`, { hint: 'run mlvc fsck' })
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
  if (m.type !== 'blob') fail(id, `unknown manifest type ${String(m.type)}`)
  const { size, sha256, chunks } = m
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) fail(id, 'bad size')
  if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) fail(id, 'bad sha256')
  if (!Array.isArray(chunks)) fail(id, 'bad chunk list')
  let total = 0
  for (const entry of chunks as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 2) fail(id, 'bad chunk entry')
    const [chunk, length] = entry as [unknown, unknown]
    if (typeof chunk !== 'string' || parseId(chunk).kind !== 'chunk') fail(id, 'bad chunk id')
    if (typeof length !== 'number' || !Number.isSafeInteger(length) || length <= 0) {
      fail(id, 'bad chunk length')
    }
    total += length
  }
  if (total !== size) fail(id, `chunks add up to ${total} bytes, size says ${size}`)
  return { type: 'blob', size, sha256, chunks: chunks as Array<[string, number]> }
}

/** The ids a manifest refers to (what gc keeps alive and fsck checks). */
export function manifestReferences(manifest: Manifest): string[] {
  switch (manifest.type) {
    case 'blob':
      return manifest.chunks.map(([id]) => id)
  }
}
