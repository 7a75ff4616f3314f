import { type DType, dtypeSize } from '../formats/index.ts'
import { aligned, CHUNK } from './blocks.ts'
import { decodeInto } from './codec.ts'
import { encodeInto } from './encode.ts'
import { blockLength, type MergeBlocks, type MergeSide } from './merge.ts'

/**
 * Chunks of each side decoded to f64, and the result before it is rounded to the dtype. Shared by
 * every strategy: they are used only inside synchronous calls, which never interleave.
 */
export const SCRATCH = {
  base: new Float64Array(CHUNK),
  ours: new Float64Array(CHUNK),
  theirs: new Float64Array(CHUNK),
  out: new Float64Array(CHUNK),
}

/** Elements of each side and the result: SCRATCH, or for f32 tensors views of the blocks. */
export interface KernelArrays {
  base: Float64Array | Float32Array
  ours: Float64Array | Float32Array
  theirs: Float64Array | Float32Array
  out: Float64Array | Float32Array
}

/** Computes out[0, n) from the sides' elements, in f64 (JavaScript arithmetic). */
/** Computes `out[0, n)` from the sides' first n elements; every array holds at least n. */
export type Kernel = (n: number, arrays: KernelArrays) => void

const f32 = (bytes: Uint8Array, slot: 0 | 1 | 2) => {
  const a = aligned(bytes, 4, slot)
  return new Float32Array(a.buffer, a.byteOffset, a.length >>> 2)
}

/** Decodes chunk [start, end) (in bytes) of each side read into SCRATCH; returns the elements. */
export function decodeChunk(
  dtype: DType,
  blocks: MergeBlocks,
  reads: readonly MergeSide[],
  start: number,
  end: number,
): number {
  let n = 0
  for (const side of reads) n = decodeInto(dtype, blocks[side].subarray(start, end), SCRATCH[side])
  return n
}

/**
 * Merges blocks chunk by chunk in f64 and rounds the result to the dtype (to nearest, ties to even;
 * f64 holds every input of a float dtype exactly). Values, not bits, are merged: NaN payloads
 * become the dtype's canonical NaN and 0 + (-0) is 0, as in NumPy.
 */
export function mergeFloats(
  dtype: DType,
  blocks: MergeBlocks,
  reads: readonly MergeSide[],
  kernel: Kernel,
  into?: Uint8Array,
): Uint8Array {
  const size = dtypeSize(dtype)
  const length = blockLength(blocks, reads, size)
  const out = into ? into.subarray(0, length) : new Uint8Array(length)
  if (dtype === 'F32' && out.byteOffset % 4 === 0) {
    // f64 holds every f32 exactly and a store into a Float32Array rounds once, to nearest even:
    // the same values as decoding to f64 first, without the copies.
    kernel(length / size, {
      base: f32(blocks.base, 0),
      ours: f32(blocks.ours, 1),
      theirs: f32(blocks.theirs, 2),
      out: new Float32Array(out.buffer, out.byteOffset, length / size),
    })
    return out
  }
  for (let start = 0; start < length; start += CHUNK * size) {
    const end = Math.min(length, start + CHUNK * size)
    const n = decodeChunk(dtype, blocks, reads, start, end)
    kernel(n, SCRATCH)
    encodeInto(dtype, SCRATCH.out, n, out.subarray(start, end))
  }
  return out
}
