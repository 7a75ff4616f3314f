import { closeSync, openSync } from 'node:fs'
import { fsError, writeAllSync, writevAllSync } from '../core/index.ts'
import type { ObjectKind } from './cid.ts'
import { encodeIdx, type IdxEntry } from './idx.ts'
import { PACK_MAGIC, RECORD_HEADER, recordHeader } from './pack-format.ts'

/** A standalone pack being written to `path` (for uploads): same format as the store's packs. */
export interface PackFileBuilder {
  readonly size: number
  readonly count: number
  append(digest: Uint8Array, kind: ObjectKind, data: Uint8Array): void
  /** Closes the pack and returns its index bytes. */
  finish(): Buffer
}

export function createPackFile(path: string): PackFileBuilder {
  let fd: number
  try {
    fd = openSync(path, 'wx')
    writeAllSync(fd, PACK_MAGIC)
  } catch (err) {
    throw fsError(err, 'creating pack', path)
  }
  let size = PACK_MAGIC.length
  const entries: IdxEntry[] = []
  return {
    get size() {
      return size
    },
    get count() {
      return entries.length
    },
    append(digest, kind, data) {
      try {
        writevAllSync(fd, [recordHeader(digest, kind, data.length), data], size)
      } catch (err) {
        throw fsError(err, 'writing pack', path)
      }
      entries.push({
        digest: Uint8Array.from(digest),
        kind,
        offset: size + RECORD_HEADER,
        length: data.length,
      })
      size += RECORD_HEADER + data.length
    },
    finish() {
      closeSync(fd)
      return encodeIdx(entries)
    },
  }
}
