import { badFormat, checkCount } from './bad-format.ts'
import type { ByteSource } from './source.ts'

export const SIG_LOCAL = 0x04034b50
export const SIG_CENTRAL = 0x02014b50
export const SIG_DESCRIPTOR = 0x08074b50
export const SIG_EOCD = 0x06054b50
export const SIG_ZIP64_EOCD = 0x06064b50
export const SIG_ZIP64_LOCATOR = 0x07064b50
export const ZIP64_EXTRA = 0x0001
const U32_MAX = 0xffffffff

export interface ZipEntry {
  name: string
  /** 0 stored, 8 deflated; others are listed but cannot be read. */
  method: number
  flags: number
  crc32: number
  compressedSize: number
  size: number
  /** Offset of the local file header. */
  headerOffset: number
  /** The entry's stored or compressed bytes are [dataStart, dataEnd). */
  dataStart: number
  dataEnd: number
  /** Bytes of the data descriptor after dataEnd (flag bit 3); 0 if none. */
  descriptorLength: number
  /** Where the entry's central directory record starts and how long it is. */
  recordOffset: number
  recordLength: number
}

export interface ZipDirectory {
  entries: ZipEntry[]
  /** The central directory is [cdStart, cdEnd). */
  cdStart: number
  cdEnd: number
  /** Offset of the zip64 end record, if any. */
  zip64EocdOffset: number | undefined
  zip64LocatorOffset: number | undefined
  eocdOffset: number
}

function dv(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.length)
}

export function hasZipMagic(head: Uint8Array): boolean {
  return (
    head.length >= 4 &&
    head[0] === 0x50 &&
    head[1] === 0x4b &&
    ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6))
  )
}

/** The payload of extra field `id` in an extra block, as [offset in block, length], if present. */
export function findExtra(extra: Uint8Array, id: number): [number, number] | undefined {
  const view = dv(extra)
  for (let at = 0; at + 4 <= extra.length; ) {
    const length = view.getUint16(at + 2, true)
    if (view.getUint16(at, true) === id)
      return at + 4 + length <= extra.length ? [at + 4, length] : undefined
    at += 4 + length
  }
  return undefined
}

async function findEocd(src: ByteSource): Promise<number> {
  const tailLength = Math.min(src.size, 22 + 0xffff)
  const tail = await src.read(src.size - tailLength, tailLength)
  const view = dv(tail)
  for (let at = tailLength - 22; at >= 0; at--) {
    if (
      view.getUint32(at, true) === SIG_EOCD &&
      at + 22 + view.getUint16(at + 20, true) === tailLength
    ) {
      return src.size - tailLength + at
    }
  }
  throw badFormat(src.path, 'no zip end-of-central-directory record')
}

interface CdBounds {
  count: number
  cdStart: number
  cdSize: number
  zip64EocdOffset: number | undefined
  zip64LocatorOffset: number | undefined
}

async function readZip64Bounds(src: ByteSource, eocd: number): Promise<CdBounds | undefined> {
  if (eocd < 20) return undefined
  const loc = dv(await src.read(eocd - 20, 20))
  if (loc.getUint32(0, true) !== SIG_ZIP64_LOCATOR) return undefined
  const at = checkCount(src.path, 'zip64 end record offset', loc.getBigUint64(8, true))
  if (at + 56 > eocd - 20)
    throw badFormat(src.path, `zip64 end record offset ${at} is out of place`)
  const rec = dv(await src.read(at, 56))
  if (rec.getUint32(0, true) !== SIG_ZIP64_EOCD) throw badFormat(src.path, 'bad zip64 end record')
  return {
    count: checkCount(src.path, 'zip entry count', rec.getBigUint64(32, true)),
    cdSize: checkCount(src.path, 'zip central directory size', rec.getBigUint64(40, true)),
    cdStart: checkCount(src.path, 'zip central directory offset', rec.getBigUint64(48, true)),
    zip64EocdOffset: at,
    zip64LocatorOffset: eocd - 20,
  }
}

async function readBounds(src: ByteSource, eocd: number, maxBytes: number): Promise<CdBounds> {
  const rec = dv(await src.read(eocd, 22))
  if (rec.getUint16(4, true) !== 0 || rec.getUint16(6, true) !== 0) {
    throw badFormat(src.path, 'multi-disk zip archives are not read')
  }
  const bounds = (await readZip64Bounds(src, eocd)) ?? {
    count: rec.getUint16(10, true),
    cdSize: rec.getUint32(12, true),
    cdStart: rec.getUint32(16, true),
    zip64EocdOffset: undefined,
    zip64LocatorOffset: undefined,
  }
  const limit = bounds.zip64EocdOffset ?? eocd
  if (bounds.cdStart + bounds.cdSize > limit) {
    throw badFormat(
      src.path,
      `zip central directory [${bounds.cdStart}, +${bounds.cdSize}) runs past its end record at ${limit}`,
    )
  }
  if (bounds.cdSize > maxBytes)
    throw badFormat(src.path, `zip central directory of ${bounds.cdSize} bytes is too large`)
  if (bounds.count * 46 > bounds.cdSize) {
    throw badFormat(
      src.path,
      `${bounds.count} zip entries cannot fit in a ${bounds.cdSize}-byte directory`,
    )
  }
  return bounds
}

/** Central directory fields, with zip64 values substituted where the 32-bit ones are saturated. */
function parseRecord(path: string, cd: Uint8Array, at: number) {
  const view = dv(cd)
  if (at + 46 > cd.length || view.getUint32(at, true) !== SIG_CENTRAL) {
    throw badFormat(path, `bad zip central directory record at directory offset ${at}`)
  }
  const nameLength = view.getUint16(at + 28, true)
  const extraLength = view.getUint16(at + 30, true)
  const length = 46 + nameLength + extraLength + view.getUint16(at + 32, true)
  if (at + length > cd.length) throw badFormat(path, 'a zip central directory record is truncated')
  const flags = view.getUint16(at + 8, true)
  const rawName = cd.subarray(at + 46, at + 46 + nameLength)
  const extra = cd.subarray(at + 46 + nameLength, at + 46 + nameLength + extraLength)
  let size = view.getUint32(at + 24, true)
  let compressedSize = view.getUint32(at + 20, true)
  let headerOffset = view.getUint32(at + 42, true)
  const z64 = findExtra(extra, ZIP64_EXTRA)
  if (z64) {
    const zv = dv(extra.subarray(z64[0], z64[0] + z64[1]))
    let p = 0
    const next = (what: string) => {
      if (p + 8 > z64[1]) throw badFormat(path, 'a zip64 extra field is truncated')
      p += 8
      return checkCount(path, what, zv.getBigUint64(p - 8, true))
    }
    if (size === U32_MAX) size = next('zip entry size')
    if (compressedSize === U32_MAX) compressedSize = next('zip entry size')
    if (headerOffset === U32_MAX) headerOffset = next('zip entry offset')
  }
  return {
    name: new TextDecoder(flags & 0x800 ? 'utf-8' : 'latin1').decode(rawName),
    flags,
    method: view.getUint16(at + 10, true),
    crc32: view.getUint32(at + 16, true),
    compressedSize,
    size,
    headerOffset,
    length,
  }
}

async function locateData(src: ByteSource, entry: ReturnType<typeof parseRecord>, limit: number) {
  const what = `zip entry ${entry.name}`
  if (entry.headerOffset + 30 > limit)
    throw badFormat(src.path, `${what}: header offset ${entry.headerOffset} is out of place`)
  const head = dv(await src.read(entry.headerOffset, 30))
  if (head.getUint32(0, true) !== SIG_LOCAL)
    throw badFormat(src.path, `${what}: no local header at ${entry.headerOffset}`)
  const nameLength = head.getUint16(26, true)
  const extraLength = head.getUint16(28, true)
  const dataStart = entry.headerOffset + 30 + nameLength + extraLength
  const dataEnd = dataStart + entry.compressedSize
  if (dataEnd > limit)
    throw badFormat(
      src.path,
      `${what}: its ${entry.compressedSize} bytes at ${dataStart} run past the central directory`,
    )
  const local = await src.read(entry.headerOffset + 30, nameLength + extraLength)
  if (
    Buffer.compare(
      local.subarray(0, nameLength),
      Buffer.from(entry.name, entry.flags & 0x800 ? 'utf8' : 'latin1'),
    ) !== 0
  ) {
    throw badFormat(src.path, `${what}: the local header names another file`)
  }
  const localExtra = local.subarray(nameLength)
  let descriptorLength = 0
  if (entry.flags & 8) {
    const zip64 =
      findExtra(localExtra, ZIP64_EXTRA) !== undefined || entry.compressedSize >= U32_MAX
    const sig =
      dataEnd + 4 <= limit && dv(await src.read(dataEnd, 4)).getUint32(0, true) === SIG_DESCRIPTOR
    descriptorLength = (sig ? 4 : 0) + 4 + (zip64 ? 16 : 8)
    if (dataEnd + descriptorLength > limit)
      throw badFormat(src.path, `${what}: its data descriptor runs past the central directory`)
    const d = dv(await src.read(dataEnd + (sig ? 4 : 0), descriptorLength - (sig ? 4 : 0)))
    const field = (i: number) =>
      zip64
        ? checkCount(src.path, `${what} size`, d.getBigUint64(4 + 8 * i, true))
        : d.getUint32(4 + 4 * i, true)
    checkAgrees(src.path, entry, 'data descriptor', {
      crc32: d.getUint32(0, true),
      compressedSize: field(0),
      size: field(1),
    })
  }
  checkLocalHeader(src.path, entry, head, localExtra)
  return { dataStart, dataEnd, descriptorLength }
}

type Recorded = Pick<ZipEntry, 'crc32' | 'compressedSize' | 'size'>

/**
 * Readers differ in which copy of an entry's facts they trust (the central directory, the local
 * header, a data descriptor), so copies that disagree make an archive mean different things to
 * different tools: malformed.
 */
function checkAgrees(
  path: string,
  entry: Pick<ZipEntry, 'name'> & Recorded,
  where: string,
  copy: Recorded,
): void {
  for (const key of ['crc32', 'compressedSize', 'size'] as const) {
    if (copy[key] !== entry[key]) {
      throw badFormat(
        path,
        `zip entry ${entry.name}: its ${where} records ${key} ${copy[key]}, the central directory ${entry[key]}`,
      )
    }
  }
}

function checkLocalHeader(
  path: string,
  entry: ReturnType<typeof parseRecord>,
  head: DataView,
  extra: Uint8Array,
): void {
  const what = `zip entry ${entry.name}`
  const flags = head.getUint16(6, true)
  if ((flags & 9) !== (entry.flags & 9))
    throw badFormat(
      path,
      `${what}: the local header's flags ${flags} disagree with the directory's ${entry.flags}`,
    )
  const method = head.getUint16(8, true)
  if (method !== entry.method) {
    throw badFormat(
      path,
      `${what}: the local header says compression method ${method}, the central directory ${entry.method}`,
    )
  }
  // With a data descriptor (flag bit 3) the local header's CRC and sizes may be zero.
  if (entry.flags & 8) return
  const z64 = findExtra(extra, ZIP64_EXTRA)
  let slot = 0
  const wide = (value: number, name: string) => {
    if (value !== U32_MAX || !z64) return value
    if (slot + 8 > z64[1]) throw badFormat(path, `${what}: a zip64 extra field is truncated`)
    slot += 8
    return checkCount(path, name, dv(extra).getBigUint64(z64[0] + slot - 8, true))
  }
  const size = wide(head.getUint32(22, true), `${what} size`)
  const compressedSize = wide(head.getUint32(18, true), `${what} size`)
  checkAgrees(path, entry, 'local header', {
    crc32: head.getUint32(14, true),
    compressedSize,
    size,
  })
}

function checkDisjoint(path: string, entries: ZipEntry[]): void {
  const sorted = entries.toSorted((a, b) => a.headerOffset - b.headerOffset)
  for (let i = 1; i < sorted.length; i++) {
    const [a, b] = [sorted[i - 1] as ZipEntry, sorted[i] as ZipEntry]
    if (b.headerOffset < a.dataEnd + a.descriptorLength)
      throw badFormat(path, `zip entries ${a.name} and ${b.name} overlap`)
  }
}

/** Two entries of one name are read as the first by some tools and the last by others. */
function checkUniqueEntries(path: string, entries: readonly ZipEntry[]): void {
  const seen = new Set<string>()
  for (const e of entries) {
    if (seen.has(e.name))
      throw badFormat(path, `two zip entries are named ${JSON.stringify(e.name)}`)
    seen.add(e.name)
  }
}

/**
 * Reads the central directory and every local header; checks that all of it lies in the file,
 * that no two entries share a name or bytes, and that the local headers and data descriptors agree
 * with the directory. Entry data is not read (see checkEntryCrc).
 */
export async function readZipDirectory(src: ByteSource, maxBytes: number): Promise<ZipDirectory> {
  const eocdOffset = await findEocd(src)
  const bounds = await readBounds(src, eocdOffset, maxBytes)
  const cd = await src.read(bounds.cdStart, bounds.cdSize)
  const entries: ZipEntry[] = []
  let at = 0
  for (let i = 0; i < bounds.count; i++) {
    const record = parseRecord(src.path, cd, at)
    const data = await locateData(src, record, bounds.cdStart)
    entries.push({
      name: record.name,
      method: record.method,
      flags: record.flags,
      crc32: record.crc32,
      compressedSize: record.compressedSize,
      size: record.size,
      headerOffset: record.headerOffset,
      ...data,
      recordOffset: bounds.cdStart + at,
      recordLength: record.length,
    })
    at += record.length
  }
  checkDisjoint(src.path, entries)
  checkUniqueEntries(src.path, entries)
  return {
    entries,
    cdStart: bounds.cdStart,
    cdEnd: bounds.cdStart + at,
    zip64EocdOffset: bounds.zip64EocdOffset,
    zip64LocatorOffset: bounds.zip64LocatorOffset,
    eocdOffset,
  }
}
