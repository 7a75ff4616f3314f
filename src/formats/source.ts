import { type FileHandle, open } from 'node:fs/promises'
import { fsError } from '../core/index.ts'
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
  }
}

export function handleSource(path: string, handle: FileHandle, size: number): ByteSource {
  return {
    path,
    size,
    read: async (offset, length) => {
      checkSourceRange(path, size, offset, length)
      const buf = Buffer.allocUnsafe(length)
      let done = 0
      while (done < length) {
        const { bytesRead } = await handle
          .read(buf, done, length - done, offset + done)
          .catch((err: unknown) => {
            throw fsError(err, 'reading', path)
          })
        if (bytesRead === 0) throw badFormat(path, 'the file shrank while being read')
        done += bytesRead
      }
      return buf
    },
  }
}

/** Opens `path` read-only for the duration of `fn`. */
export async function withFileSource<T>(
  path: string,
  fn: (source: ByteSource) => Promise<T>,
): Promise<T> {
  let handle: FileHandle
  try {
    handle = await open(path, 'r')
  } catch (err) {
    throw fsError(err, 'opening', path)
  }
  try {
    const { size } = await handle.stat().catch((err: unknown) => {
      throw fsError(err, 'reading', path)
    })
    return await fn(handleSource(path, handle, size))
  } finally {
    await handle.close()
  }
}
