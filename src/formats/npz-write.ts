import { createReadStream } from 'node:fs'
import { open, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream'
import { createDeflateRaw } from 'node:zlib'
import { fsError, MlvcError, uniqueName } from '../core/index.ts'
import { inflateRange } from './inflate.ts'
import type { ByteSource } from './source.ts'
import { copyRange, type OutFile, readerOf, writeAt } from './write-io.ts'
import { type Replacement, writeTensorAt } from './write-tensor.ts'
import type { ZipDirectory, ZipEntry } from './zip.ts'
import {
  crcOfRange,
  type EntryValues,
  patchCentralRecord,
  patchDescriptor,
  patchLocalHeader,
} from './zip-patch.ts'

export interface RewriteZipOptions {
  src: ByteSource
  dir: ZipDirectory
  /** Replacements by zip entry name. */
  members: ReadonlyMap<string, Replacement>
  out: OutFile
  tmpDir: string
}

interface Member {
  entry: ZipEntry
  r: Replacement
}

/** The member's whole new content (npy header + data) in the temporary file `tmp`. */
async function buildMember(
  o: RewriteZipOptions,
  { entry, r }: Member,
  tmp: OutFile,
): Promise<void> {
  let pos = 0
  if (entry.method === 0) {
    pos = await copyRange(tmp, 0, { src: o.src, start: entry.dataStart, end: entry.dataEnd })
  } else {
    const range = { start: entry.dataStart, end: entry.dataEnd, size: entry.size }
    for await (const chunk of inflateRange(o.src, range, `member ${entry.name}`)) {
      await writeAt(tmp, pos, chunk)
      pos += chunk.length
    }
  }
  const base = r.tensor.compression ? r.tensor.compression.offset : r.tensor.start - entry.dataStart
  await writeTensorAt(tmp, base, r)
}

async function* deflated(path: string): AsyncGenerator<Uint8Array> {
  const deflater = createDeflateRaw()
  pipeline(createReadStream(path), deflater, () => {})
  yield* deflater as AsyncIterable<Buffer>
}

/** Writes a replaced entry at `pos`: header, data (recompressed if it was), descriptor. */
async function writeMember(
  o: RewriteZipOptions,
  m: Member,
  pos: number,
): Promise<[EntryValues, number]> {
  const { entry } = m
  const path = join(o.tmpDir, uniqueName('mlvc-npz'))
  const handle = await open(path, 'wx+').catch((err: unknown) => {
    throw fsError(err, 'creating', path)
  })
  try {
    const tmp = { handle, path }
    await buildMember(o, m, tmp)
    const crc = await crcOfRange(readerOf(tmp), 0, entry.size)
    const headerLength = entry.dataStart - entry.headerOffset
    let at = pos + headerLength
    for await (const chunk of entry.method === 0 ? createReadStream(path) : deflated(path)) {
      await writeAt(o.out, at, chunk as Uint8Array)
      at += (chunk as Uint8Array).length
    }
    const v: EntryValues = { crc32: crc, compressedSize: at - pos - headerLength, size: entry.size }
    const header = Uint8Array.from(await o.src.read(entry.headerOffset, headerLength))
    patchLocalHeader(entry, header, v)
    await writeAt(o.out, pos, header)
    if (entry.descriptorLength > 0) {
      const desc = Uint8Array.from(await o.src.read(entry.dataEnd, entry.descriptorLength))
      patchDescriptor(desc, v)
      await writeAt(o.out, at, desc)
      at += desc.length
    }
    return [v, at]
  } finally {
    await handle.close()
    await rm(path, { force: true })
  }
}

/** Copies the end records with the central directory's new place and size. */
async function patchTail(o: RewriteZipOptions, cdStart: number, cdEnd: number): Promise<void> {
  const { src, dir, out } = o
  let at = await copyRange(out, cdEnd, {
    src,
    start: dir.cdEnd,
    end: dir.zip64EocdOffset ?? dir.eocdOffset,
  })
  if (dir.zip64EocdOffset !== undefined && dir.zip64LocatorOffset !== undefined) {
    const rec = Uint8Array.from(
      await src.read(dir.zip64EocdOffset, dir.zip64LocatorOffset - dir.zip64EocdOffset),
    )
    const view = new DataView(rec.buffer)
    view.setBigUint64(40, BigInt(cdEnd - cdStart), true)
    view.setBigUint64(48, BigInt(cdStart), true)
    const loc = Uint8Array.from(await src.read(dir.zip64LocatorOffset, 20))
    new DataView(loc.buffer).setBigUint64(8, BigInt(at), true)
    await writeAt(out, at, rec)
    await writeAt(out, at + rec.length, loc)
    at = await copyRange(out, at + rec.length + 20, {
      src,
      start: dir.zip64LocatorOffset + 20,
      end: dir.eocdOffset,
    })
  }
  const eocd = Uint8Array.from(await src.read(dir.eocdOffset, src.size - dir.eocdOffset))
  const view = new DataView(eocd.buffer)
  for (const [field, value] of [
    [12, cdEnd - cdStart],
    [16, cdStart],
  ] as const) {
    if (view.getUint32(field, true) === 0xffffffff) continue
    if (value >= 0xffffffff)
      throw new MlvcError(
        'USAGE',
        `${out.path}: the zip would need zip64 end records that the original lacks`,
      )
    view.setUint32(field, value, true)
  }
  await writeAt(out, at, eocd)
}

/**
 * Rewrites a zip with some members' content replaced: unchanged entries are copied byte for byte,
 * replaced ones are rebuilt (recompressed if they were DEFLATED), and every offset, size and
 * CRC-32 in local headers, data descriptors, the central directory and the end records follows.
 */
export async function rewriteZip(o: RewriteZipOptions): Promise<void> {
  const { src, dir, out } = o
  const values = new Map<ZipEntry, EntryValues & { headerOffset: number }>()
  let pos = 0
  let srcPos = 0
  for (const entry of dir.entries.toSorted((a, b) => a.headerOffset - b.headerOffset)) {
    pos = await copyRange(out, pos, { src, start: srcPos, end: entry.headerOffset })
    const r = o.members.get(entry.name)
    const headerOffset = pos
    if (r) {
      const [v, end] = await writeMember(o, { entry, r }, pos)
      values.set(entry, { ...v, headerOffset })
      pos = end
    } else {
      values.set(entry, { ...entry, headerOffset })
      pos = await copyRange(out, pos, {
        src,
        start: entry.headerOffset,
        end: entry.dataEnd + entry.descriptorLength,
      })
    }
    srcPos = entry.dataEnd + entry.descriptorLength
  }
  pos = await copyRange(out, pos, { src, start: srcPos, end: dir.cdStart })
  const cdStart = pos
  for (const entry of dir.entries) {
    const rec = Uint8Array.from(await src.read(entry.recordOffset, entry.recordLength))
    patchCentralRecord(entry, rec, values.get(entry) as EntryValues & { headerOffset: number })
    await writeAt(out, pos, rec)
    pos += rec.length
  }
  await patchTail(o, cdStart, pos)
}
