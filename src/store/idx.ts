import { createHash } from 'node:crypto'
import { MlvcError } from '../core/index.ts'
import type { ObjectKind } from './cid.ts'
import { createDigestList, type DigestList } from './digest-list.ts'

/**
 * A pack's index: which objects it holds and where. Layout (little-endian):
 *   "MLVCIX01" | u32 count | count × entry (48 bytes, sorted by digest) | sha256 of all before it
 * entry: digest[32] | u48 offset of the record's data | u16 0 | u32 length | u8 kind | 3 × 0
 */
export interface IdxEntry {
  digest: Uint8Array
  kind: ObjectKind
  /** Offset of the object's bytes in the pack (after its record header). */
  offset: number
  length: number
}

const MAGIC = 'MLVCIX01'
const ENTRY = 48
const HEAD = 12

function kindCode(kind: ObjectKind): number {
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

export function encodeIdx(entries: readonly IdxEntry[]): Buffer {
  const list = createDigestList()
  for (const e of entries) list.push(e.digest, e.length, e.offset, e.kind)
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
    out.writeUInt32LE(list.length(i), pos + 40)
    out[pos + 44] = kindCode(list.kind(i))
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
    next[b] = (next[b] as number) + 1
  }
  for (let b = 1; b <= 65536; b++) next[b] = (next[b] as number) + (next[b - 1] as number)
  const order = new Int32Array(count)
  for (let i = 0; i < count; i++) {
    const b = bucketOf(i)
    order[next[b] as number] = i
    next[b] = (next[b] as number) + 1
  }
  for (let from = 0; from < count; ) {
    const bucket = bucketOf(order[from] as number)
    let to = from + 1
    while (to < count && bucketOf(order[to] as number) === bucket) to++
    if (to - from > 1) order.subarray(from, to).sort((a, b) => list.compareDigests(a, b))
    from = to
  }
  return order
}

/** Checks an index's framing (and with `verify`, its checksum); returns its entry count. */
function checkIdx(data: Buffer, where: string, verify: boolean): number {
  if (data.length < HEAD + 32 || data.toString('latin1', 0, 8) !== MAGIC) {
    throw new MlvcError('CORRUPT', `${where}: not an mlvc pack index`)
  }
  const count = data.readUInt32LE(8)
  const end = HEAD + count * ENTRY
  if (data.length !== end + 32) {
    throw new MlvcError('CORRUPT', `${where}: truncated pack index (${count} entries announced)`)
  }
  if (verify) {
    const sum = createHash('sha256').update(data.subarray(0, end)).digest()
    if (!sum.equals(data.subarray(end))) {
      throw new MlvcError('CORRUPT', `${where}: pack index checksum mismatch`)
    }
  }
  return count
}

/** Checks the framing (and with `verify`, the checksum) and returns the entries. */
export function decodeIdx(data: Buffer, where: string, verify = false): IdxEntry[] {
  const count = checkIdx(data, where, verify)
  const entries: IdxEntry[] = new Array(count)
  for (let i = 0, pos = HEAD; i < count; i++, pos += ENTRY) {
    entries[i] = {
      digest: data.subarray(pos, pos + 32),
      offset: data.readUIntLE(pos + 32, 6),
      length: data.readUInt32LE(pos + 40),
      kind: kindFromCode(data[pos + 44] as number, where),
    }
  }
  return entries
}
