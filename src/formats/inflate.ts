import { pipeline, Readable } from 'node:stream'
import { createInflateRaw } from 'node:zlib'
import { isMlvcError } from '../core/index.ts'
import { badFormat } from './bad-format.ts'
import type { ByteSource } from './source.ts'

const BLOCK = 1 << 20

async function* fileBlocks(
  src: ByteSource,
  start: number,
  end: number,
): AsyncGenerator<Uint8Array> {
  for (let pos = start; pos < end; pos += BLOCK) yield src.read(pos, Math.min(BLOCK, end - pos))
}

/**
 * Inflates the raw-deflate bytes [start, end) of `src` as a stream. Output beyond `size` bytes, or
 * a stream that ends before `size` bytes, is BAD_FORMAT: the zip directory's size is the bound,
 * so a zip bomb cannot make it produce more.
 */
export async function* inflateRange(
  src: ByteSource,
  range: { start: number; end: number; size: number },
  what: string,
): AsyncGenerator<Uint8Array> {
  const inflater = createInflateRaw()
  pipeline(Readable.from(fileBlocks(src, range.start, range.end)), inflater, () => {})
  let total = 0
  try {
    for await (const chunk of inflater as AsyncIterable<Buffer>) {
      total += chunk.length
      if (total > range.size) {
        throw badFormat(
          src.path,
          `${what} inflates to more than the ${range.size} bytes the zip directory says`,
        )
      }
      yield chunk
    }
  } catch (err) {
    if (isMlvcError(err)) throw err
    throw badFormat(
      src.path,
      `${what}: the compressed data is corrupt (${(err as Error).message})`,
      err,
    )
  } finally {
    inflater.destroy()
  }
  if (total !== range.size) {
    throw badFormat(
      src.path,
      `${what} inflates to ${total} bytes, the zip directory says ${range.size}`,
    )
  }
}
