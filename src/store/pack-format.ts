import type { ObjectKind } from './cid.ts'

/**
 * Pack file: "MLVCPK01", then records: digest[32] | u8 kind | u32 length (LE) | bytes.
 * Records are self-describing so that fsck can check a pack against its index byte by byte.
 */
export const PACK_MAGIC = Buffer.from('MLVCPK01', 'latin1')
export const RECORD_HEADER = 37
/** A pack is closed once it passes this size; the record that crosses it is the last. */
export const MAX_PACK_BYTES = 64 * 1024 * 1024

export function recordHeader(digest: Uint8Array, kind: ObjectKind, length: number): Buffer {
  const header = Buffer.alloc(RECORD_HEADER)
  writeRecordHeader(header, 0, digest, kind, length)
  return header
}

/** Writes a record header into `target` at `at`. */
export function writeRecordHeader(
  target: Buffer,
  at: number,
  digest: Uint8Array,
  kind: ObjectKind,
  length: number,
): void {
  target.set(digest, at)
  target[at + 32] = kind === 'chunk' ? 0 : 1
  target.writeUInt32LE(length, at + 33)
}
