import { createWriteStream } from 'node:fs'
import { open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { fsError, uniqueName } from '../core/index.ts'
import { badFormat } from './bad-format.ts'
import { openExternalData } from './external.ts'
import { gather, swapItems, windows } from './gather.ts'
import { inflateRange } from './inflate.ts'
import type { TensorLayout } from './layout.ts'
import { type ByteSource, handleSource } from './source.ts'
import { checkRange, isBigEndian, isRun, itemSize, tensorView } from './tensor-info.ts'
import { decodeVarints } from './varint.ts'

export interface ReadTensorOptions {
  /** Bytes per yielded block, rounded down to whole elements. @default 1 MiB */
  blockSize?: number
  signal?: AbortSignal
  /** Where a column-major compressed npz member is inflated to be reordered. @default os.tmpdir() */
  tmpDir?: string
}

async function* rangeBlocks(
  src: ByteSource,
  range: { start: number; length: number },
  block: number,
): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < range.length; at += block)
    yield src.read(range.start + at, Math.min(block, range.length - at))
}

/** Elements of a tensor whose (uncompressed) bytes lie in `src` from `base` on. */
function decodeAt(
  src: ByteSource,
  tensor: TensorLayout,
  at: { base: number; block: number },
): AsyncIterable<Uint8Array> {
  const item = itemSize(tensor)
  if (isRun(tensor)) {
    const e = tensor.encoding
    const skip = e.kind === 'strided' ? e.storageOffset * item : 0
    return rangeBlocks(src, { start: at.base + skip, length: tensor.nbytes }, at.block)
  }
  const read = (offset: number, length: number) => src.read(at.base + offset, length)
  return gather(read, { view: tensorView(tensor), item, blockItems: at.block / item })
}

async function* swapped(
  blocks: AsyncIterable<Uint8Array>,
  tensor: TensorLayout,
  signal?: AbortSignal,
): AsyncGenerator<Uint8Array> {
  const big = isBigEndian(tensor)
  for await (const b of blocks) {
    signal?.throwIfAborted()
    // Swapped in a copy: a source may hand out bytes it keeps (a stored file's cache).
    yield big ? swapItems(b.slice(), itemSize(tensor)) : b
  }
}

/** The inflated bytes [offset, offset + length) of a compressed range. */
async function* inflatedSlice(
  src: ByteSource,
  tensor: TensorLayout,
  slice: { offset: number; length: number },
): AsyncGenerator<Uint8Array> {
  const range = { start: tensor.start, end: tensor.end, size: tensor.compression?.size ?? 0 }
  const end = slice.offset + slice.length
  let pos = 0
  for await (const chunk of inflateRange(src, range, `tensor ${tensor.name}`)) {
    const from = Math.max(slice.offset - pos, 0)
    const to = Math.min(end - pos, chunk.length)
    if (to > from) yield chunk.subarray(from, to)
    pos += chunk.length
    if (pos >= end) return
  }
}

async function* readFrom(
  path: string,
  fn: (src: ByteSource) => Promise<AsyncIterable<Uint8Array>>,
): AsyncGenerator<Uint8Array> {
  const handle = await open(path, 'r').catch((err: unknown) => {
    throw fsError(err, 'opening', path)
  })
  try {
    yield* await fn(handleSource(path, handle, (await handle.stat()).size))
  } finally {
    await handle.close()
  }
}

/** The file a tensor's range is in: the checkpoint, or an ONNX external data file beside it. */
async function* readFromTensorFile(
  path: string,
  tensor: TensorLayout,
  fn: (src: ByteSource) => Promise<AsyncIterable<Uint8Array>>,
): AsyncGenerator<Uint8Array> {
  if (tensor.file === undefined) {
    yield* readFrom(path, fn)
    return
  }
  const external = await openExternalData(path, tensor.name, tensor.file)
  try {
    yield* await fn(handleSource(external.path, external.handle, external.size))
  } finally {
    await external.handle.close()
  }
}

async function* decodeCompressed(
  src: ByteSource,
  tensor: TensorLayout,
  at: { block: number; tmpDir: string },
): AsyncGenerator<Uint8Array> {
  const { offset = 0, size = 0 } = tensor.compression ?? {}
  checkRange(src.path, tensor, size - offset)
  const data = inflatedSlice(src, tensor, { offset, length: tensor.nbytes })
  if (isRun(tensor)) {
    yield* windows(data, at.block)
    return
  }
  // Reordering needs random access, and the inflated member may be large: spill it to a file.
  const tmp = join(at.tmpDir, uniqueName('mlvc-inflate'))
  try {
    await pipeline(data, createWriteStream(tmp, { flags: 'wx' }))
    yield* readFrom(tmp, async (spill) => decodeAt(spill, tensor, { base: 0, block: at.block }))
  } finally {
    await rm(tmp, { force: true })
  }
}

function decode(
  src: ByteSource,
  tensor: TensorLayout,
  options: ReadTensorOptions & { block: number },
): AsyncIterable<Uint8Array> {
  const { block } = options
  if (tensor.compression)
    return decodeCompressed(src, tensor, { block, tmpDir: options.tmpDir ?? tmpdir() })
  if (tensor.end > src.size || tensor.start < 0)
    throw badFormat(src.path, `tensor ${tensor.name}: its range leaves the file`)
  if (tensor.encoding.kind === 'varint') return decodeVarints(src, tensor, block)
  checkRange(src.path, tensor, tensor.end - tensor.start)
  return decodeAt(src, tensor, { base: tensor.start, block })
}

/**
 * A tensor's elements as stored, decoded to little-endian C order (for quantized GGUF tensors:
 * the exact blocks), `nbytes` in all, in blocks of bounded size. Tensor data is read at offsets and
 * never held whole.
 */
export async function* readTensor(
  path: string,
  tensor: TensorLayout,
  options: ReadTensorOptions = {},
): AsyncGenerator<Uint8Array> {
  const item = itemSize(tensor)
  const block = Math.max(item, Math.floor((options.blockSize ?? 1 << 20) / item) * item)
  yield* readFromTensorFile(path, tensor, async (src) =>
    swapped(decode(src, tensor, { ...options, block }), tensor, options.signal),
  )
}

/**
 * readTensor over any random-access source, not only a file: a checkpoint held in the store is
 * read this way without writing it out.
 */
export async function* readTensorFrom(
  src: ByteSource,
  tensor: TensorLayout,
  options: ReadTensorOptions = {},
): AsyncGenerator<Uint8Array> {
  const item = itemSize(tensor)
  const block = Math.max(item, Math.floor((options.blockSize ?? 1 << 20) / item) * item)
  yield* swapped(decode(src, tensor, { ...options, block }), tensor, options.signal)
}
