import { fsError, writeAllSync, writevAllSync } from '../core/index.ts'
import type { ObjectKind } from './cid.ts'
import { RECORD_HEADER, recordHeader, writeRecordHeader } from './pack-format.ts'

/** A record to append: its object, and how the pieces given with it encode the object. */
export interface RecordOf {
  digest: Uint8Array
  kind: ObjectKind
  codec: number
  /** The object's raw length. */
  size: number
}

/** Records up to this size are gathered in memory; larger ones are written as they come. */
const SMALL = 16 * 1024
const BUFFER = 1024 * 1024

/**
 * Writes pack records at the end of a pack file. A checkpoint with 200,000 tensors stores 400,000
 * objects of a few dozen bytes (chunks and part manifests); a system call each would cost more than
 * their bytes, so small records wait in a buffer, written with the next large record, when it is
 * full, or on flush(). Whoever reads the pack through another path must flush first.
 */
export interface RecordSink {
  /** Appends a record whose stored bytes are `pieces` at `position`, where the previous one ended. */
  write(position: number, record: RecordOf, pieces: readonly Uint8Array[]): void
  /** Writes the buffered records. */
  flush(): void
}

export function createRecordSink(fd: number, path: string): RecordSink {
  let buffer: Buffer | undefined
  let used = 0
  /** File position of buffer[0]. */
  let start = 0
  const flush = () => {
    if (used === 0 || !buffer) return
    try {
      writeAllSync(fd, buffer.subarray(0, used), start)
    } catch (err) {
      throw fsError(err, 'writing pack', path)
    }
    used = 0
  }
  return {
    write(position, record, pieces) {
      let length = 0
      for (const piece of pieces) length += piece.length
      if (RECORD_HEADER + length > SMALL) {
        flush()
        try {
          writevAllSync(fd, [recordHeader(record, length), ...pieces], position)
        } catch (err) {
          throw fsError(err, 'writing pack', path)
        }
        return
      }
      buffer ??= Buffer.allocUnsafe(BUFFER)
      if (used + RECORD_HEADER + length > buffer.length) flush()
      if (used === 0) start = position
      writeRecordHeader(buffer, used, record, length)
      used += RECORD_HEADER
      for (const piece of pieces) {
        buffer.set(piece, used)
        used += piece.length
      }
    },
    flush,
  }
}
