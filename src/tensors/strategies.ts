import { MlvcError } from '../core/index.ts'
import { dtypeSize, isFloat } from '../formats/index.ts'
import { type Kernel, mergeFloats } from './elementwise.ts'
import {
  blockLength,
  type MergeSide,
  type MergeStrategy,
  notApplicable,
  type TensorInfo,
  type TensorMerge,
} from './merge.ts'

function take(side: MergeSide): MergeStrategy {
  const reads = [side] as const
  return {
    name: side,
    reads,
    appliesTo: () => true,
    begin(tensor) {
      const size = dtypeSize(tensor.dtype)
      return {
        needsPass: false,
        scan() {},
        endPass() {},
        merge(blocks, into) {
          const length = blockLength(blocks, reads, size)
          if (!into) return blocks[side].slice()
          const out = into.subarray(0, length)
          out.set(blocks[side])
          return out
        },
      }
    },
  }
}

/** Our version, bit for bit. Any dtype. */
export const ours = (): MergeStrategy => take('ours')
/** Their version, bit for bit. Any dtype. */
export const theirs = (): MergeStrategy => take('theirs')
/** The common ancestor's version, bit for bit. Any dtype. */
export const base = (): MergeStrategy => take('base')

/** A strategy computed element by element in f64, for float dtypes only. */
function floatStrategy(name: string, reads: readonly MergeSide[], kernel: Kernel): MergeStrategy {
  return {
    name,
    reads,
    appliesTo: isFloat,
    begin(tensor: TensorInfo): TensorMerge {
      if (!isFloat(tensor.dtype)) throw notApplicable(name, tensor)
      return {
        needsPass: false,
        scan() {},
        endPass() {},
        merge: (blocks, into) => mergeFloats(tensor.dtype, blocks, reads, kernel, into),
      }
    },
  }
}

function checkNumber(name: string, value: number): number {
  if (!Number.isFinite(value)) throw new MlvcError('USAGE', `${name} must be a finite number`)
  return value
}

export interface AverageOptions {
  /** Relative weights, non-negative, not both zero. @default { ours: 1, theirs: 1 } */
  weights?: { ours: number; theirs: number } | undefined
}

/** The weighted mean w·ours + (1 − w)·theirs, with w = weights.ours / (weights.ours + weights.theirs). */
export function average(options: AverageOptions = {}): MergeStrategy {
  const weights = options.weights ?? { ours: 1, theirs: 1 }
  const wo = checkNumber('weights.ours', weights.ours)
  const wt = checkNumber('weights.theirs', weights.theirs)
  if (wo < 0 || wt < 0 || !(wo + wt > 0 && wo + wt < Number.POSITIVE_INFINITY)) {
    throw new MlvcError('USAGE', 'average weights must be non-negative and not both zero')
  }
  const a = wo / (wo + wt)
  const b = wt / (wo + wt)
  return floatStrategy('average', ['ours', 'theirs'], (n, { ours: x, theirs: y, out }) => {
    // In range: i < n, and a kernel's arrays hold n elements each (see Kernel). Per-element loop: its reads stay unchecked.
    for (let i = 0; i < n; i++) out[i] = a * (x[i] as number) + b * (y[i] as number)
  })
}

export interface TaskArithmeticOptions {
  /**
   * Scale of each side's task vector (its change from base): one λ for both, or one per side.
   * λ = 1 applies both changes in full. @default 1
   */
  lambda?: number | { ours: number; theirs: number } | undefined
}

/**
 * Task arithmetic (Ilharco et al., 2023): base + λo·(ours − base) + λt·(theirs − base), evaluated
 * in that order in f64.
 */
export function taskArithmetic(options: TaskArithmeticOptions = {}): MergeStrategy {
  const lambda = options.lambda ?? 1
  const lo = checkNumber('lambda', typeof lambda === 'number' ? lambda : lambda.ours)
  const lt = checkNumber('lambda', typeof lambda === 'number' ? lambda : lambda.theirs)
  return floatStrategy('task-arithmetic', ['base', 'ours', 'theirs'], (n, arrays) => {
    const { base: z, ours: x, theirs: y, out } = arrays
    // In range: i < n, and a kernel's arrays hold n elements each (see Kernel). Per-element loop: its reads stay unchecked.
    for (let i = 0; i < n; i++) {
      const b = z[i] as number
      out[i] = b + lo * ((x[i] as number) - b) + lt * ((y[i] as number) - b)
    }
  })
}
