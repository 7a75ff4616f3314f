import { closeSync, openSync } from 'node:fs'
import { fsError, writeAllSync } from '../core/index.ts'
import type { ObjectKind } from './cid.ts'
import { createDigestList } from './digest-list.ts'
import { type Encoding, RAW } from './encoding.ts'
import { encodeIdxList } from './idx.ts'
import { PACK_MAGIC, RECORD_HEADER } from './pack-format.ts'
import { createRecordSink } from './record-sink.ts'

/** A standalone pack being written to `path` (for uploads): same format as the store's packs. */
export interface PackFileBuilder {
  readonly size: number
  readonly count: number
  /** Appends an object's stored bytes (the raw object, without `encoding`). */
  append(digest: Uint8Array, kind: ObjectKind, data: Uint8Array, encoding?: Encoding): void
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
    append(digest, kind, data, encoding) {
      const { codec, size: raw } = encoding ?? { codec: RAW, size: data.length }
      sink.write(size, { digest, kind, codec, size: raw }, [data])
      entries.push(digest, data.length, size + RECORD_HEADER, kind, codec, raw)
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
