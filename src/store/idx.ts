import { createHash } from 'node:crypto'
import { MlvcError, matchesDigest } from '../core/index.ts'
import type { ObjectKind } from './cid.ts'
import { createDigestList, type DigestList } from './digest-list.ts'
import { RAW } from './encoding.ts'
import { kindFromCode } from './pack-format.ts'

/**
 * A pack's index: which objects it holds and where. Layout (little-endian):
 *   "MLVCIX02" | u32 count | count × entry (48 bytes, sorted by digest) | sha256 of all before it
 * entry: digest[32] | u48 offset of the record's stored bytes | u8 kind | u8 codec
 *        | u32 stored length | u32 size
 * Version 1 ("MLVCIX01", raw records only), still read:
 * entry: digest[32] | u48 offset | u16 0 | u32 length | u8 kind | 3 × 0
 */
export interface IdxEntry {
  digest: Uint8Array
  kind: ObjectKind
  /** Offset of the object's stored bytes in the pack (after its record header). */
  offset: number
  /** Bytes stored in the pack. */
  length: number
  /** How they encode the object (encoding.ts). */
  codec: number
  /** Bytes of the object once decoded (its raw length). */
  size: number
}

const MAGIC = 'MLVCIX02'
const MAGIC_V1 = 'MLVCIX01'
const ENTRY = 48
const HEAD = 12

function kindCode(kind: ObjectKind): number {
  return kind === 'chunk' ? 0 : 1
}

export function encodeIdx(entries: readonly IdxEntry[]): Buffer {
  const list = createDigestList()
  for (const e of entries) list.push(e.digest, e.length, e.offset, e.kind, e.codec, e.size)
  return encodeIdxList(list, list.count)
}

/** The index of the first `count` objects of a list, sorted by digest. */
export function encodeIdxList(list: DigestList, count: number): Buffer {
  const order = digestOrder(list, count)
  const out = Buffer.alloc(HEAD + count * ENTRY + 32)
  out.write(MAGIC, 0, 'latin1')
  out.writeUInt32LE(count, 8)
  let pos = HEAD
  for (const i of order) {
    list.copyDigest(i, out, pos)
    out.writeUIntLE(list.offset(i), pos + 32, 6)
    out[pos + 38] = kindCode(list.kind(i))
    out[pos + 39] = list.codec(i)
    out.writeUInt32LE(list.length(i), pos + 40)
    out.writeUInt32LE(list.size(i), pos + 44)
    pos += ENTRY
  }
  createHash('sha256').update(out.subarray(0, pos)).digest().copy(out, pos)
  return out
}

/**
 * Indexes 0..count-1 of a list in digest order. A pack of a checkpoint with many tensors holds
 * 400,000 objects: they are bucketed by their first two bytes (digests are uniform), and only
 * each bucket's few entries are compared.
 */
function digestOrder(list: DigestList, count: number): Int32Array {
  const bucketOf = (i: number) => (list.byte(i, 0) << 8) | list.byte(i, 1)
  const next = new Int32Array(65537)
  for (let i = 0; i < count; i++) {
    const b = bucketOf(i) + 1
    next[b] = (next[b] ?? 0) + 1
  }
  for (let b = 1; b <= 65536; b++) next[b] = (next[b] ?? 0) + (next[b - 1] ?? 0)
  const order = new Int32Array(count)
  for (let i = 0; i < count; i++) {
    const b = bucketOf(i)
    const at = next[b] ?? 0
    order[at] = i
    next[b] = at + 1
  }
  for (let from = 0; from < count; ) {
    const bucket = bucketOf(order[from] ?? 0)
    let to = from + 1
    while (to < count && bucketOf(order[to] ?? 0) === bucket) to++
    if (to - from > 1) order.subarray(from, to).sort((a, b) => list.compareDigests(a, b))
    from = to
  }
  return order
}

/** Checks an index's framing (and with `verify`, its checksum); returns its entry count. */
function checkIdx(data: Buffer, where: string, verify: boolean): number {
  const magic = data.toString('latin1', 0, 8)
  if (data.length < HEAD + 32 || (magic !== MAGIC && magic !== MAGIC_V1)) {
    throw new MlvcError('CORRUPT', `${where}: not an mlvc pack index`)
  }
  const count = data.readUInt32LE(8)
  const end = HEAD + count * ENTRY
  if (data.length !== end + 32) {
    throw new MlvcError('CORRUPT', `${where}: truncated pack index (${count} entries announced)`)
  }
  if (verify) {
    if (!matchesDigest(data.subarray(0, end), data.subarray(end))) {
      throw new MlvcError('CORRUPT', `${where}: pack index checksum mismatch`)
    }
  }
  return count
}

/** Checks the framing (and with `verify`, the checksum) and returns the entries. */
export function decodeIdx(data: Buffer, where: string, verify = false): IdxEntry[] {
  const count = checkIdx(data, where, verify)
  const v1 = data.toString('latin1', 0, 8) === MAGIC_V1
  const entries: IdxEntry[] = new Array(count)
  for (let i = 0, pos = HEAD; i < count; i++, pos += ENTRY) {
    const length = data.readUInt32LE(pos + 40)
    entries[i] = {
      digest: data.subarray(pos, pos + 32),
      offset: data.readUIntLE(pos + 32, 6),
      length,
      kind: kindFromCode(data[pos + (v1 ? 44 : 38)] ?? 0, where),
      codec: v1 ? RAW : (data[pos + 39] ?? 0),
      size: v1 ? length : data.readUInt32LE(pos + 44),
    }
  }
  return entries
}
