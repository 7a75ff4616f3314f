import { MlvcError } from '../core/index.ts'
import { type DType, dtypeSize } from '../formats/index.ts'

/**
 * Elements processed at a time inside a block: a few f64 scratch arrays of this length stay in the
 * L2 cache (1 MiB per core here), so decoding, computing and encoding a chunk touch memory once.
 */
export const CHUNK = 8192

/**
 * Tensor bytes are little-endian and typed arrays use the host's byte order. Every platform Node 20
 * ships for is little-endian except s390x, where this refuses to run rather than compute garbage.
 */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

export function assertLittleEndian(): void {
  if (!LITTLE_ENDIAN) {
    throw new MlvcError('USAGE', 'tensor arithmetic needs a little-endian host', {
      hint: 'run mlvc on x86-64 or arm64',
    })
  }
}

export function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new MlvcError('INTERRUPTED', 'interrupted', { cause: signal.reason })
  }
}

const scratch: Uint8Array[] = [new Uint8Array(0), new Uint8Array(0), new Uint8Array(0)]

/**
 * `bytes` at an offset that is a multiple of `align`: `bytes` itself when it already is, else a copy
 * in scratch slot `slot`, valid until the next call with that slot. Typed views need aligned
 * offsets, and data from files or sockets arrives at any offset.
 */
export function aligned(bytes: Uint8Array, align: number, slot: 0 | 1 | 2 = 0): Uint8Array {
  if (bytes.byteOffset % align === 0) return bytes
  let buf = scratch[slot] as Uint8Array
  if (buf.length < bytes.length) {
    buf = new Uint8Array(Math.max(bytes.length, 2 * buf.length))
    scratch[slot] = buf
  }
  const copy = buf.subarray(0, bytes.length)
  copy.set(bytes)
  return copy
}

export function words16(bytes: Uint8Array, slot: 0 | 1 | 2 = 0): Uint16Array {
  const a = aligned(bytes, 2, slot)
  return new Uint16Array(a.buffer, a.byteOffset, a.length >>> 1)
}

export function words32(bytes: Uint8Array, slot: 0 | 1 | 2 = 0): Uint32Array {
  const a = aligned(bytes, 4, slot)
  return new Uint32Array(a.buffer, a.byteOffset, a.length >>> 2)
}

/** A pull reader over a stream of pieces, for reading several streams in step. */
interface Reader {
  it: AsyncIterator<Uint8Array>
  buf: Uint8Array
  pos: number
  ended: boolean
  read: number
}

async function fill(reader: Reader, min: number): Promise<void> {
  while (!reader.ended && reader.buf.length - reader.pos < min) {
    const next = await reader.it.next()
    if (next.done) {
      reader.ended = true
      return
    }
    const rest = reader.buf.subarray(reader.pos)
    if (rest.length === 0) {
      reader.buf = next.value
    } else {
      // A piece ended inside an element: join the partial element with the next piece.
      const joined = new Uint8Array(rest.length + next.value.length)
      joined.set(rest)
      joined.set(next.value, rest.length)
      reader.buf = joined
    }
    reader.pos = 0
  }
}

export interface ZipOptions {
  /** Bytes per element; every yielded block holds whole elements. */
  elementSize: number
  /** Bytes each stream must hold in total. */
  totalBytes: number
  /** Names of the streams, for errors (e.g. `ours of layers.0.weight`). */
  names: readonly string[]
  signal?: AbortSignal | undefined
}

/** ZipOptions for streams that each hold one tensor of `elements` elements of `dtype`. */
export function tensorZip(tensor: {
  dtype: DType
  elements: number
  names: readonly string[]
  signal?: AbortSignal | undefined
}): ZipOptions {
  const elementSize = dtypeSize(tensor.dtype)
  return {
    elementSize,
    totalBytes: tensor.elements * elementSize,
    names: tensor.names,
    signal: tensor.signal,
  }
}

/** One block per source, in the sources' order. */
export type ZippedBlocks<T extends readonly unknown[]> = { -readonly [K in keyof T]: Uint8Array }

function lengthError(name: string, got: string, expected: number): MlvcError {
  return new MlvcError(
    'CORRUPT',
    `${name} holds ${got} bytes, its shape and dtype need ${expected}`,
    {
      hint: 'the tensor data is truncated or the header that describes it is wrong',
    },
  )
}

/**
 * Reads several streams of element bytes in step: yields, per step, one block from each, all of
 * the same length, a multiple of the element size. Pieces may split elements anywhere. Memory: one
 * piece per stream. Throws CORRUPT if a stream's length differs from `totalBytes`.
 */
export async function* zipBlocks<const T extends readonly AsyncIterable<Uint8Array>[]>(
  sources: T,
  options: ZipOptions,
): AsyncGenerator<ZippedBlocks<T>> {
  const { elementSize: size, totalBytes, names } = options
  const readers: Reader[] = sources.map((source) => ({
    it: source[Symbol.asyncIterator](),
    buf: new Uint8Array(0),
    pos: 0,
    ended: false,
    read: 0,
  }))
  try {
    for (;;) {
      checkAborted(options.signal)
      let n = Number.POSITIVE_INFINITY
      for (const reader of readers) {
        await fill(reader, size)
        n = Math.min(n, reader.buf.length - reader.pos)
      }
      n -= n % size
      if (n === 0) break
      const blocks = readers.map((reader, i) => {
        const block = reader.buf.subarray(reader.pos, reader.pos + n)
        reader.pos += n
        reader.read += n
        if (reader.read > totalBytes) {
          throw lengthError(names[i] ?? `stream ${i}`, `more than ${totalBytes}`, totalBytes)
        }
        return block
      })
      // One block per source: a tuple's length survives map(), which TypeScript cannot follow.
      yield blocks as ZippedBlocks<T>
    }
    // Blame a stream that ended at the wrong length first: the others only look too long.
    const order = readers
      .map((_, i) => i)
      .sort((i, j) => Number(!readers[i]?.ended) - Number(!readers[j]?.ended))
    for (const i of order) {
      const reader = readers[i] as Reader
      const left = reader.buf.length - reader.pos
      if (reader.read !== totalBytes || left > 0 || !reader.ended) {
        const got = reader.ended ? String(reader.read + left) : `more than ${reader.read}`
        throw lengthError(names[i] ?? `stream ${i}`, got, totalBytes)
      }
    }
  } finally {
    await Promise.all(readers.map((reader) => reader.it.return?.()))
  }
}

/** One stream as element-aligned blocks; see zipBlocks. */
export async function* alignedBlocks(
  source: AsyncIterable<Uint8Array>,
  options: Omit<ZipOptions, 'names'> & { name: string },
): AsyncGenerator<Uint8Array> {
  for await (const [block] of zipBlocks([source], { ...options, names: [options.name] })) {
    yield block
  }
}
