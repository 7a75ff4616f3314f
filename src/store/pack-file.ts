import { closeSync, openSync } from 'node:fs'
import { fsError, writeAllSync } from '../core/index.ts'
import type { ObjectKind } from './cid.ts'
import { createDigestList } from './digest-list.ts'
import { encodeIdxList } from './idx.ts'
import { PACK_MAGIC, RECORD_HEADER } from './pack-format.ts'
import { createRecordSink } from './record-sink.ts'

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
  const entries = createDigestList()
  const sink = createRecordSink(fd, path)
  return {
    get size() {
      return size
    },
    get count() {
      return entries.count
    },
    append(digest, kind, data) {
      sink.write(size, digest, kind, [data])
      entries.push(digest, data.length, size + RECORD_HEADER, kind)
      size += RECORD_HEADER + data.length
    },
    finish() {
      try {
        sink.flush()
      } finally {
        closeSync(fd)
      }
      return encodeIdxList(entries, entries.count)
    },
  }
}
