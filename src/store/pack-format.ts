import { MlvcError } from '../core/index.ts'
import type { ObjectKind } from './cid.ts'
import { RAW } from './encoding.ts'

/**
 * Pack file, version 2: "MLVCPK02", then records:
 *   digest[32] | u8 kind | u8 codec | u32 stored length (LE) | u32 size (LE) | stored bytes
 * `codec` says how the stored bytes encode the object's `size` raw bytes (encoding.ts); the digest
 * is the sha-256 of the raw bytes. Version 1 ("MLVCPK01", mlvc before encodings) has raw records:
 *   digest[32] | u8 kind | u32 length (LE) | bytes
 * Both are read; only version 2 is written. Records are self-describing so that fsck can check a
 * pack against its index byte by byte, and a lost index can be rebuilt from its pack.
 */
export const PACK_MAGIC = Buffer.from('MLVCPK02', 'latin1')
const PACK_MAGIC_V1 = Buffer.from('MLVCPK01', 'latin1')
export const RECORD_HEADER = 42
const RECORD_HEADER_V1 = 37
/** A pack is closed once it passes this size; the record that crosses it is the last. */
export const MAX_PACK_BYTES = 64 * 1024 * 1024

export type PackVersion = 1 | 2

/** The pack format version its first 8 bytes announce, or undefined for a foreign file. */
export function packVersion(head: Uint8Array): PackVersion | undefined {
  const magic = head.subarray(0, PACK_MAGIC.length)
  if (PACK_MAGIC.equals(magic)) return 2
  if (PACK_MAGIC_V1.equals(magic)) return 1
  return undefined
}

/** Bytes of a record's header in a pack of this version. */
export function recordHeaderSize(version: PackVersion): number {
  return version === 1 ? RECORD_HEADER_V1 : RECORD_HEADER
}

/** What a record's header says. */
export interface RecordHeader {
  digest: Uint8Array
  kind: ObjectKind
  codec: number
  /** Bytes stored after the header. */
  length: number
  /** Bytes of the object once decoded. */
  size: number
}

function kindByte(kind: ObjectKind): number {
  switch (kind) {
    case 'chunk':
      return 0
    case 'manifest':
      return 1
  }
}

export function kindFromCode(code: number, where: string): ObjectKind {
  if (code === 0) return 'chunk'
  if (code === 1) return 'manifest'
  throw new MlvcError('CORRUPT', `${where}: unknown object kind ${code}`)
}

/** Parses the record header at `at` (the caller checked that it lies within `data`). */
export function parseRecordHeader(
  data: Buffer,
  at: number,
  version: PackVersion,
  where: string,
): RecordHeader {
  const digest = data.subarray(at, at + 32)
  const kind = kindFromCode(data[at + 32] ?? 0, where)
  if (version === 1) {
    const length = data.readUInt32LE(at + 33)
    return { digest, kind, codec: RAW, length, size: length }
  }
  return {
    digest,
    kind,
    codec: data[at + 33] ?? 0,
    length: data.readUInt32LE(at + 34),
    size: data.readUInt32LE(at + 38),
  }
}

/** Writes a version 2 record header into `target` at `at`: of a record of `length` stored bytes. */
export function writeRecordHeader(
  target: Buffer,
  at: number,
  header: Omit<RecordHeader, 'length'>,
  length: number,
): void {
  target.set(header.digest, at)
  target[at + 32] = kindByte(header.kind)
  target[at + 33] = header.codec
  target.writeUInt32LE(length, at + 34)
  target.writeUInt32LE(header.size, at + 38)
}

export function recordHeader(header: Omit<RecordHeader, 'length'>, length: number): Buffer {
  const out = Buffer.allocUnsafe(RECORD_HEADER)
  writeRecordHeader(out, 0, header, length)
  return out
}
