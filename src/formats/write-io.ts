import type { FileHandle } from 'node:fs/promises'
import { fsError, MlvcError, readFull } from '../core/index.ts'
import type { ByteSource } from './source.ts'

/** New content for a tensor: its decoded bytes (little-endian, C order; GGUF: the blocks). */
export type TensorBytes = Uint8Array | AsyncIterable<Uint8Array>

/** An output file open for positional reads and writes; `path` names it in errors. */
export interface OutFile {
  handle: FileHandle
  path: string
}

const BLOCK = 1 << 20

export interface ExactSpec {
  name: string
  nbytes: number
  /** Blocks hold whole items of this many bytes. */
  item: number
  signal?: AbortSignal | undefined
}

/**
 * The replacement as fresh blocks of whole elements (safe to modify), checking that it has
 * exactly `nbytes` bytes.
 */
export async function* exactBlocks(
  bytes: TensorBytes,
  spec: ExactSpec,
): AsyncGenerator<Uint8Array> {
  const { name, nbytes, item, signal } = spec
  const blockSize = Math.max(item, Math.floor(BLOCK / item) * item)
  const wrongSize = (n: number) =>
    new MlvcError(
      'USAGE',
      `the replacement for tensor ${name} has ${n} bytes; its dtype and shape need ${nbytes}`,
    )
  let total = 0
  let buf = new Uint8Array(Math.min(blockSize, nbytes))
  let fill = 0
  for await (const chunk of bytes instanceof Uint8Array ? [bytes] : bytes) {
    signal?.throwIfAborted()
    total += chunk.length
    if (total > nbytes) throw wrongSize(total)
    for (let at = 0; at < chunk.length; ) {
      const n = Math.min(buf.length - fill, chunk.length - at)
      buf.set(chunk.subarray(at, at + n), fill)
      fill += n
      at += n
      if (fill === buf.length) {
        yield buf
        // what is still to come: nbytes minus everything consumed into blocks so far
        buf = new Uint8Array(Math.min(blockSize, nbytes - total + (chunk.length - at)))
        fill = 0
      }
    }
  }
  if (total !== nbytes) throw wrongSize(total)
}

export async function collect(blocks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const b of blocks) parts.push(b)
  return Buffer.concat(parts)
}

export async function writeAt(out: OutFile, position: number, data: Uint8Array): Promise<void> {
  let done = 0
  while (done < data.length) {
    const { bytesWritten } = await out.handle
      .write(data, done, data.length - done, position + done)
      .catch((err: unknown) => {
        throw fsError(err, 'writing', out.path)
      })
    done += bytesWritten
  }
}

/** Copies `from.src` bytes [start, end) to `out` at `position`; returns the position after them. */
export async function copyRange(
  out: OutFile,
  position: number,
  from: { src: ByteSource; start: number; end: number },
): Promise<number> {
  for (let at = from.start; at < from.end; at += BLOCK) {
    await writeAt(
      out,
      position + (at - from.start),
      await from.src.read(at, Math.min(BLOCK, from.end - at)),
    )
  }
  return position + (from.end - from.start)
}

/** Positional reads of the output file (fresh, zero-filled buffers). */
export function readerOf(out: OutFile): (offset: number, length: number) => Promise<Uint8Array> {
  return async (offset, length) => {
    const buf = Buffer.alloc(length)
    await readFull(out.handle, buf, offset).catch((err: unknown) => {
      throw fsError(err, 'reading', out.path)
    })
    return buf
  }
}
