import { crc32 } from 'node:zlib'
import { MlvcError } from '../core/index.ts'
import { type OutFile, readerOf, writeAt } from './write-io.ts'
import { findExtra, ZIP64_EXTRA, type ZipEntry } from './zip.ts'

const U32_MAX = 0xffffffff

export interface EntryValues {
  crc32: number
  compressedSize: number
  size: number
}

export async function crcOfRange(
  read: (offset: number, length: number) => Promise<Uint8Array>,
  start: number,
  end: number,
): Promise<number> {
  let crc = 0
  for (let at = start; at < end; at += 1 << 20)
    crc = crc32(await read(at, Math.min(1 << 20, end - at)), crc)
  return crc
}

/** A local header or central directory record, and where its extra fields lie. */
interface HeaderBytes {
  name: string
  bytes: Uint8Array
  extraAt: number
  extraLength: number
}

/**
 * Sets 32-bit fields, or their zip64 extra slots where the 32-bit field is saturated. `fields`
 * lists [offset of the 32-bit field, new value] in the order zip64 extras store them.
 */
function patchFields(rec: HeaderBytes, fields: Array<[number, number]>): void {
  const tooBig = () =>
    new MlvcError(
      'USAGE',
      `zip entry ${rec.name} would need zip64 size fields that the original archive lacks`,
    )
  const view = new DataView(rec.bytes.buffer, rec.bytes.byteOffset, rec.bytes.length)
  const z64 = findExtra(rec.bytes.subarray(rec.extraAt, rec.extraAt + rec.extraLength), ZIP64_EXTRA)
  let slot = z64 ? rec.extraAt + z64[0] : -1
  for (const [at, value] of fields) {
    if (view.getUint32(at, true) === U32_MAX && z64) {
      if (slot + 8 > rec.extraAt + z64[0] + z64[1]) throw tooBig()
      view.setBigUint64(slot, BigInt(value), true)
      slot += 8
    } else if (value >= U32_MAX) {
      throw tooBig()
    } else {
      view.setUint32(at, value, true)
    }
  }
}

/** A local header (30 bytes + name + extra) with new CRC and sizes, unless a data descriptor carries them. */
export function patchLocalHeader(entry: ZipEntry, header: Uint8Array, v: EntryValues): void {
  const view = new DataView(header.buffer, header.byteOffset, header.length)
  if (entry.flags & 8 && view.getUint32(14, true) === 0 && view.getUint32(18, true) === 0) return
  view.setUint32(14, v.crc32, true)
  const rec = {
    name: entry.name,
    bytes: header,
    extraAt: 30 + view.getUint16(26, true),
    extraLength: view.getUint16(28, true),
  }
  patchFields(rec, [
    [22, v.size],
    [18, v.compressedSize],
  ])
}

export function patchCentralRecord(
  entry: ZipEntry,
  record: Uint8Array,
  v: EntryValues & { headerOffset: number },
): void {
  const view = new DataView(record.buffer, record.byteOffset, record.length)
  view.setUint32(16, v.crc32, true)
  const rec = {
    name: entry.name,
    bytes: record,
    extraAt: 46 + view.getUint16(28, true),
    extraLength: view.getUint16(30, true),
  }
  patchFields(rec, [
    [24, v.size],
    [20, v.compressedSize],
    [42, v.headerOffset],
  ])
}

/** A data descriptor: [signature] crc, sizes (4 bytes each, or 8 in zip64 archives). */
export function patchDescriptor(desc: Uint8Array, v: EntryValues): void {
  const view = new DataView(desc.buffer, desc.byteOffset, desc.length)
  const at = desc.length === 12 || desc.length === 20 ? 0 : 4
  view.setUint32(at, v.crc32, true)
  if (desc.length - at === 20) {
    view.setBigUint64(at + 4, BigInt(v.compressedSize), true)
    view.setBigUint64(at + 12, BigInt(v.size), true)
  } else {
    view.setUint32(at + 4, v.compressedSize, true)
    view.setUint32(at + 8, v.size, true)
  }
}

/**
 * After an entry's data changed in place (same sizes): recomputes its CRC-32 from `out` and
 * writes it into the local header, the data descriptor and the central directory record.
 */
export async function fixEntryCrc(out: OutFile, entry: ZipEntry): Promise<void> {
  const read = readerOf(out)
  const v = {
    crc32: await crcOfRange(read, entry.dataStart, entry.dataEnd),
    compressedSize: entry.compressedSize,
    size: entry.size,
  }
  const header = await read(entry.headerOffset, entry.dataStart - entry.headerOffset)
  patchLocalHeader(entry, header, v)
  await writeAt(out, entry.headerOffset, header)
  if (entry.descriptorLength > 0) {
    const desc = await read(entry.dataEnd, entry.descriptorLength)
    patchDescriptor(desc, v)
    await writeAt(out, entry.dataEnd, desc)
  }
  const rec = await read(entry.recordOffset, entry.recordLength)
  patchCentralRecord(entry, rec, { ...v, headerOffset: entry.headerOffset })
  await writeAt(out, entry.recordOffset, rec)
}
