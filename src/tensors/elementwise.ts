import { type DType, dtypeSize } from '../formats/dtype.ts'
import { CHUNK } from './blocks.ts'
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

/** Computes out[0, n) from the decoded chunks of the sides. */
export type Kernel = (n: number) => void

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
): Uint8Array {
  const size = dtypeSize(dtype)
  const length = blockLength(blocks, reads, size)
  const out = new Uint8Array(length)
  for (let start = 0; start < length; start += CHUNK * size) {
    const end = Math.min(length, start + CHUNK * size)
    const n = decodeChunk(dtype, blocks, reads, start, end)
    kernel(n)
    encodeInto(dtype, SCRATCH.out, n, out.subarray(start, end))
  }
  return out
}
