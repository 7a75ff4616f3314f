import { crc32 } from 'node:zlib'
import { badFormat } from './bad-format.ts'
import { inflateRange } from './inflate.ts'
import type { ByteSource } from './source.ts'
import type { ZipEntry } from './zip.ts'

const BLOCK = 4 << 20

const hex = (crc: number) => `0x${(crc >>> 0).toString(16).padStart(8, '0')}`

function checkReadable(src: ByteSource, entry: ZipEntry): void {
  const what = `zip entry ${entry.name}`
  if (entry.flags & 1) throw badFormat(src.path, `${what} is encrypted`)
  if (entry.method !== 0 && entry.method !== 8)
    throw badFormat(src.path, `${what} uses compression method ${entry.method}`)
  if (entry.method === 0 && entry.size !== entry.compressedSize)
    throw badFormat(src.path, `${what}: a stored entry's sizes differ`)
}

function checkCrc(src: ByteSource, entry: ZipEntry, crc: number): void {
  if (crc >>> 0 !== entry.crc32) {
    throw badFormat(
      src.path,
      `zip entry ${entry.name}: its data has CRC-32 ${hex(crc)}, the zip directory records ${hex(entry.crc32)}`,
    )
  }
}

/**
 * An entry's data front to back (inflated if deflated), in blocks, checked against the CRC-32
 * the directory records once the last block is through: a mismatch throws BAD_FORMAT then. Zip
 * tools (Python's zipfile, so NumPy; unzip) refuse such an entry; PyTorch does not check. A block
 * is valid until the next is asked for (stored data is read into one reused buffer).
 */
export async function* entryData(src: ByteSource, entry: ZipEntry): AsyncGenerator<Uint8Array> {
  checkReadable(src, entry)
  let crc = 0
  if (entry.method === 0) {
    const buffer = src.readInto ? Buffer.allocUnsafe(Math.min(BLOCK, entry.size)) : undefined
    for (let at = entry.dataStart; at < entry.dataEnd; at += BLOCK) {
      const n = Math.min(BLOCK, entry.dataEnd - at)
      const block = buffer
        ? await (src.readInto as NonNullable<ByteSource['readInto']>)(at, buffer.subarray(0, n))
        : await src.read(at, n)
      crc = crc32(block, crc)
      yield block
    }
  } else {
    const range = { start: entry.dataStart, end: entry.dataEnd, size: entry.size }
    for await (const chunk of inflateRange(src, range, `zip entry ${entry.name}`)) {
      crc = crc32(chunk, crc)
      yield chunk
    }
  }
  checkCrc(src, entry, crc)
}

/**
 * Reads an entry's whole data to check its CRC-32, keeping the first `keep` bytes (a header that
 * lies at its start).
 */
export async function checkEntryCrc(
  src: ByteSource,
  entry: ZipEntry,
  keep = 0,
): Promise<Uint8Array> {
  const kept: Uint8Array[] = []
  let have = 0
  for await (const block of entryData(src, entry)) {
    if (have < keep) {
      kept.push(Buffer.from(block.subarray(0, keep - have)))
      have += Math.min(block.length, keep - have)
    }
  }
  return Buffer.concat(kept)
}

/** The whole content of a small entry (a pickle, a header), stored or inflated, CRC checked. */
export async function readZipEntry(
  src: ByteSource,
  entry: ZipEntry,
  maxBytes: number,
): Promise<Uint8Array> {
  if (entry.size > maxBytes)
    throw badFormat(
      src.path,
      `zip entry ${entry.name} holds ${entry.size} bytes, more than the ${maxBytes} mlvc reads`,
    )
  return checkEntryCrc(src, entry, entry.size)
}
