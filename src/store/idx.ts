import { createHash } from 'node:crypto'
import { MlvcError } from '../core/index.ts'
import type { ObjectKind } from './cid.ts'

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
  const sorted = [...entries].sort((a, b) => Buffer.compare(a.digest, b.digest))
  const out = Buffer.alloc(HEAD + sorted.length * ENTRY + 32)
  out.write(MAGIC, 0, 'latin1')
  out.writeUInt32LE(sorted.length, 8)
  let pos = HEAD
  for (const entry of sorted) {
    out.set(entry.digest, pos)
    out.writeUIntLE(entry.offset, pos + 32, 6)
    out.writeUInt32LE(entry.length, pos + 40)
    out[pos + 44] = kindCode(entry.kind)
    pos += ENTRY
  }
  createHash('sha256').update(out.subarray(0, pos)).digest().copy(out, pos)
  return out
}

/** Checks the framing (and with `verify`, the checksum) and returns the entries. */
export function decodeIdx(data: Buffer, where: string, verify = false): IdxEntry[] {
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
