import type { FileHandle } from 'node:fs/promises'
import { fsError, readFull, readFullSync, withFileForReading } from '../core/index.ts'
import { badFormat } from './bad-format.ts'

/** Random-access reads of a file (or, in tests, of bytes in memory). */
export interface ByteSource {
  /** Names the file in messages. */
  readonly path: string
  readonly size: number
  /**
   * Exactly `length` bytes at `offset`; BAD_FORMAT if the range leaves the file. The caller must
   * not modify them: a source may return bytes it keeps.
   */
  read(offset: number, length: number): Promise<Uint8Array>
  /**
   * `target.length` bytes at `offset` into `target`, which it returns; same checks as read. For
   * long sequential reads: a buffer reused for every block spares the kernel mapping fresh pages
   * for each (5× faster here than a new 4 MiB buffer per read).
   */
  readInto?(offset: number, target: Uint8Array): Promise<Uint8Array>
}

/** No single header read is larger than this; tensor data is read in blocks, never whole. */
export const MAX_READ = 1 << 30

/** BAD_FORMAT unless [offset, offset + length) lies in a file of `size` bytes and is not huge. */
export function checkSourceRange(path: string, size: number, offset: number, length: number): void {
  if (
    !Number.isSafeInteger(offset) ||
    !Number.isSafeInteger(length) ||
    offset < 0 ||
    length < 0 ||
    offset + length > size
  ) {
    throw badFormat(
      path,
      `${length} bytes at offset ${offset} run past the end of the file (${size} bytes)`,
    )
  }
  if (length > MAX_READ) throw badFormat(path, `a header field asks for ${length} bytes at once`)
}

export function bufferSource(path: string, bytes: Uint8Array): ByteSource {
  return {
    path,
    size: bytes.length,
    read: async (offset, length) => {
      checkSourceRange(path, bytes.length, offset, length)
      return bytes.subarray(offset, offset + length)
    },
    readInto: async (offset, target) => {
      checkSourceRange(path, bytes.length, offset, target.length)
      target.set(bytes.subarray(offset, offset + target.length))
      return target
    },
  }
}

export function handleSource(path: string, handle: FileHandle, size: number): ByteSource {
  const readInto = async (offset: number, target: Uint8Array) => {
    checkSourceRange(path, size, offset, target.length)
    const got = await readFull(handle, target, offset).catch((err: unknown) => {
      throw fsError(err, 'reading', path)
    })
    if (got < target.length) throw badFormat(path, 'the file shrank while being read')
    return target
  }
  return {
    path,
    size,
    read: async (offset, length) => {
      checkSourceRange(path, size, offset, length)
      return readInto(offset, Buffer.allocUnsafe(length))
    },
    readInto,
  }
}

/** Reads ahead at least this much; reads inside one window cost no system call of their own. */
const WINDOW = 1 << 20

function readFully(path: string, fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length)
  let got: number
  try {
    got = readFullSync(fd, buf, offset)
  } catch (err) {
    throw fsError(err, 'reading', path)
  }
  if (got < length) throw badFormat(path, 'the file shrank while being read')
  return buf
}

/**
 * A source over an open file that reads a window of at least WINDOW bytes at a time,
 * synchronously. Headers, zip directories and pickles are read in many small pieces (one or more
 * per tensor: a file may have 200,000), and an asynchronous read's round trip through the thread
 * pool costs far more than the bytes. Each window is a fresh buffer, so bytes handed out earlier
 * stay valid while later reads move on.
 */
export function windowedSource(path: string, fd: number, size: number): ByteSource {
  let base = 0
  let data: Buffer = Buffer.alloc(0)
  return {
    path,
    size,
    read: async (offset, length) => {
      checkSourceRange(path, size, offset, length)
      if (offset >= base && offset + length <= base + data.length)
        return data.subarray(offset - base, offset - base + length)
      if (length >= WINDOW) return readFully(path, fd, offset, length)
      data = readFully(path, fd, offset, Math.min(WINDOW, size - offset))
      base = offset
      return data.subarray(0, length)
    },
  }
}

/** Opens `path` read-only for the duration of `fn`. */
export async function withFileSource<T>(
  path: string,
  fn: (source: ByteSource) => Promise<T>,
): Promise<T> {
  return withFileForReading(path, ({ fd, size }) => fn(windowedSource(path, fd, size)))
}
