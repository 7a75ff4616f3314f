import { MlvcError } from '../core/index.ts'
import { dtypeSize, isFloat } from '../formats/index.ts'
import { CHUNK } from './blocks.ts'
import { decodeChunk, type KernelArrays, mergeFloats, SCRATCH } from './elementwise.ts'
import { blockLength, type MergeSide, type MergeStrategy, notApplicable } from './merge.ts'
import { type KthLargest, kthLargest } from './select.ts'

export interface TiesOptions {
  /** Fraction of each task vector's elements kept, the largest by magnitude. @default 0.2 */
  density?: number | undefined
  /** Scale of the merged task vector added to base. @default 1 */
  lambda?: number | undefined
  /** Memory bound of the threshold search, in keys of 8 bytes per side. @default 1 << 21 */
  maxCandidates?: number | undefined
}

const READS: readonly MergeSide[] = ['base', 'ours', 'theirs']
const keysOurs = new Float64Array(CHUNK)
const keysTheirs = new Float64Array(CHUNK)

/** Magnitudes of the task vectors of a decoded chunk; NaN ranks as +Infinity. */
function magnitudes(n: number): void {
  const { base: z, ours: x, theirs: y } = SCRATCH
  // In range: i < n ≤ CHUNK, the length of the scratch arrays. Per-element loop: unchecked reads.
  for (let i = 0; i < n; i++) {
    const b = z[i] as number
    const o = Math.abs((x[i] as number) - b)
    const t = Math.abs((y[i] as number) - b)
    keysOurs[i] = Number.isNaN(o) ? Number.POSITIVE_INFINITY : o
    keysTheirs[i] = Number.isNaN(t) ? Number.POSITIVE_INFINITY : t
  }
}

/**
 * TIES-merging (Yadav et al., NeurIPS 2023, "Resolving Interference When Merging Models"), for the
 * two task vectors τo = ours − base and τt = theirs − base, per tensor. Our reading of Algorithm 1:
 *
 * 1. Trim: keep the k = ⌊density·n⌋ largest |τ| of each task vector (every element tied with the
 *    k-th is kept too, so the result does not depend on element order); zero the rest.
 * 2. Elect: γ = sgn(τ̂o + τ̂t), the sign of the larger total mass.
 * 3. Disjoint merge: τm = mean of the trimmed entries whose sign is γ; when γ = 0 (nothing kept,
 *    or an exact cancellation) τm = 0, as sgn(0) = 0 gives in the paper's formula.
 * 4. base + λ·τm.
 *
 * Differences from the authors' code (prateeky2806/ties-merging): it trims over the whole model's
 * flattened parameters at once and keeps k + 1 values (kthvalue on n − k); it resolves γ = 0 to the
 * majority sign of the model. Merging tensor by tensor in bounded memory we trim per tensor, as
 * mergekit does, and keep γ = 0 symmetric, so swapping ours and theirs never changes the result.
 * NaN in a task vector ranks as the largest magnitude and propagates.
 *
 * The per-side thresholds are exact: one or two preparatory passes (see select.ts) before the
 * output pass.
 */
export function ties(options: TiesOptions = {}): MergeStrategy {
  const density = options.density ?? 0.2
  const lambda = options.lambda ?? 1
  if (!(density >= 0 && density <= 1)) {
    throw new MlvcError('USAGE', `TIES density ${density} must lie in [0, 1]`)
  }
  if (!Number.isFinite(lambda)) throw new MlvcError('USAGE', 'TIES lambda must be a finite number')
  const maxCandidates = options.maxCandidates ?? 1 << 21
  return {
    name: 'ties',
    reads: READS,
    appliesTo: isFloat,
    begin(tensor) {
      if (!isFloat(tensor.dtype)) throw notApplicable('ties', tensor)
      const { dtype, elements } = tensor
      const size = dtypeSize(dtype)
      const k = Math.floor(density * elements)
      const sides: [KthLargest, KthLargest] = [
        kthLargest(k, elements, { maxCandidates }),
        kthLargest(k, elements, { maxCandidates }),
      ]
      const kernel = (n: number, arrays: KernelArrays) => {
        const { base: z, ours: x, theirs: y, out } = arrays
        const tOurs = sides[0].threshold
        const tTheirs = sides[1].threshold
        // In range: i < n, and a kernel's arrays hold n elements each (see Kernel). Per-element
        // loops: their reads stay unchecked.
        if (k === 0) {
          for (let i = 0; i < n; i++) out[i] = (z[i] as number) + lambda * 0
          return
        }
        // Written without branches on the data (its signs are random): about 2.5 times faster.
        for (let i = 0; i < n; i++) {
          const b = z[i] as number
          const dO = (x[i] as number) - b
          const dT = (y[i] as number) - b
          // !(|τ| < t) also keeps NaN, which ranks as +Infinity.
          const o = Math.abs(dO) < tOurs ? 0 : dO
          const t = Math.abs(dT) < tTheirs ? 0 : dT
          const s = o + t
          // A trimmed value agrees with the elected sign γ = sgn(s) when its product with s is
          // positive; the agreeing values are averaged; γ = 0 gives 0 and NaN stays NaN.
          const agreeO = o * s > 0 ? 1 : 0
          const agreeT = t * s > 0 ? 1 : 0
          const m = (agreeO * o + agreeT * t) / (agreeO + agreeT || 1)
          out[i] = b + lambda * (Number.isNaN(s) ? s : m)
        }
      }
      return {
        get needsPass() {
          return !sides[0].done || !sides[1].done
        },
        scan(blocks) {
          const length = blockLength(blocks, READS, size)
          for (let start = 0; start < length; start += CHUNK * size) {
            const n = decodeChunk(dtype, blocks, READS, start, start + CHUNK * size)
            magnitudes(n)
            sides[0].add(keysOurs, n)
            sides[1].add(keysTheirs, n)
          }
        },
        endPass() {
          sides[0].endPass()
          sides[1].endPass()
        },
        merge(blocks, into) {
          if (!sides[0].done || !sides[1].done) {
            throw new MlvcError('USAGE', 'TIES needs its preparatory passes before merging')
          }
          return mergeFloats(dtype, blocks, READS, kernel, into)
        },
      }
    },
  }
}
