import { MlvcError } from '../core/index.ts'
import { type DType, dtypeSize } from '../formats/index.ts'
import { checkAborted, tensorZip, zipBlocks } from './blocks.ts'

export type MergeSide = 'base' | 'ours' | 'theirs'

/**
 * Aligned blocks of the three versions of one tensor: the same element range of each, whole
 * elements. Sides the strategy does not read are empty.
 */
export interface MergeBlocks {
  base: Uint8Array
  ours: Uint8Array
  theirs: Uint8Array
}

export interface TensorInfo {
  dtype: DType
  /** Elements in the tensor (the product of its shape). */
  elements: number
  /** For messages. */
  name?: string | undefined
}

/** How to merge one tensor of three versions (a three-way merge: base is the common ancestor). */
export interface MergeStrategy {
  readonly name: string
  /** The versions it reads. */
  readonly reads: readonly MergeSide[]
  /** Whether it applies to tensors of this dtype (arithmetic ones do not to integers and BOOL). */
  appliesTo(dtype: DType): boolean
  /** Starts merging one tensor; throws USAGE if the strategy does not apply to its dtype. */
  begin(tensor: TensorInfo): TensorMerge
}

/**
 * One tensor being merged. While needsPass is true, feed every block of the tensor to scan() (a
 * preparatory pass, e.g. TIES's magnitude threshold) and then call endPass(); then feed every block
 * to merge(), which returns the merged block: `into` (as long as the blocks) when given, else a
 * fresh array.
 */
export interface TensorMerge {
  readonly needsPass: boolean
  scan(blocks: MergeBlocks): void
  endPass(): void
  merge(blocks: MergeBlocks, into?: Uint8Array): Uint8Array
}

export const NO_BLOCK = new Uint8Array(0)

export function tensorLabel(tensor: TensorInfo): string {
  return tensor.name === undefined ? `a ${tensor.dtype} tensor` : `tensor ${tensor.name}`
}

export function notApplicable(strategy: string, tensor: TensorInfo): MlvcError {
  return new MlvcError(
    'USAGE',
    `merge strategy ${strategy} does not apply to ${tensorLabel(tensor)} of dtype ${tensor.dtype}`,
    { hint: 'integer and bool tensors merge only with ours, theirs or base' },
  )
}

/** Checks that the blocks a strategy reads have one length in whole elements; returns it. */
export function blockLength(
  blocks: MergeBlocks,
  reads: readonly MergeSide[],
  size: number,
): number {
  const length = blocks[reads[0] as MergeSide].length
  if (length % size !== 0 || reads.some((side) => blocks[side].length !== length)) {
    throw new MlvcError('USAGE', 'merge blocks must have one length, in whole elements')
  }
  return length
}

export interface MergeTensorOptions extends TensorInfo {
  /**
   * Opens a fresh stream of one version's element bytes. Called once per pass for each side the
   * strategy reads (TIES reads each side two or three times).
   */
  open(side: MergeSide): AsyncIterable<Uint8Array>
  signal?: AbortSignal | undefined
}

async function* sideBlocks(
  strategy: MergeStrategy,
  options: MergeTensorOptions,
): AsyncGenerator<MergeBlocks> {
  const label = tensorLabel(options)
  const blocks = zipBlocks(
    strategy.reads.map((side) => options.open(side)),
    tensorZip({ ...options, names: strategy.reads.map((side) => `${side} of ${label}`) }),
  )
  for await (const parts of blocks) {
    const out: MergeBlocks = { base: NO_BLOCK, ours: NO_BLOCK, theirs: NO_BLOCK }
    strategy.reads.forEach((side, i) => {
      out[side] = parts[i] as Uint8Array
    })
    yield out
  }
}

/**
 * Merges one streamed tensor: runs the strategy's preparatory passes, then yields the merged
 * bytes block by block. Memory: a block per side plus the strategy's bounded state.
 */
export async function* mergeTensor(
  strategy: MergeStrategy,
  options: MergeTensorOptions,
): AsyncGenerator<Uint8Array> {
  const merge = strategy.begin(options)
  while (merge.needsPass) {
    for await (const blocks of sideBlocks(strategy, options)) merge.scan(blocks)
    merge.endPass()
  }
  for await (const blocks of sideBlocks(strategy, options)) {
    checkAborted(options.signal)
    yield merge.merge(blocks)
  }
}

/** Merges one tensor held in memory; the sides the strategy does not read may be left out. */
export function mergeArrays(
  strategy: MergeStrategy,
  dtype: DType,
  sides: Partial<MergeBlocks>,
): Uint8Array {
  const blocks: MergeBlocks = {
    base: sides.base ?? NO_BLOCK,
    ours: sides.ours ?? NO_BLOCK,
    theirs: sides.theirs ?? NO_BLOCK,
  }
  const length = blockLength(blocks, strategy.reads, dtypeSize(dtype))
  const merge = strategy.begin({ dtype, elements: length / dtypeSize(dtype) })
  while (merge.needsPass) {
    merge.scan(blocks)
    merge.endPass()
  }
  return merge.merge(blocks)
}
