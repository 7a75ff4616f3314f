/**
 * The numeric core under statistics, diffs, storage deltas and merges of checkpoints. Tensor data
 * is raw little-endian element bytes (safetensors dtypes), streamed in blocks that may split
 * elements; memory stays bounded per block, never per tensor. Each operation has a synchronous
 * block-level form (accumulators, encoders, TensorMerge) and an async form over
 * AsyncIterable<Uint8Array> streams.
 */
export { alignedBlocks, CHUNK, type ZipOptions, type ZippedBlocks, zipBlocks } from './blocks.ts'
export {
  decode,
  decodeBigInts,
  decodeFloat32,
  decodeInto,
  fitsFloat32,
} from './codec.ts'
export { compareStats, type StatsComparison } from './compare-stats.ts'
export { type ApplyDeltaOptions, applyDelta, applyDeltaTo } from './delta-apply.ts'
export {
  createDeltaEncoder,
  type DeltaEncoder,
  type DeltaOptions,
  deltaOf,
  type EncodeDeltaOptions,
  encodeDelta,
} from './delta-encode.ts'
export { MAX_RUN } from './delta-format.ts'
export {
  createDiffAccumulator,
  type DiffAccumulator,
  type DiffStats,
  type DiffTensorsOptions,
  diffOf,
  diffTensors,
} from './diff.ts'
export { formatDiff } from './diff-format.ts'
export { encode, encodeInto } from './encode.ts'
export { type ApplyLowRankOptions, applyLowRank } from './lowrank-apply.ts'
export { type LowRankOptions, lowRankDelta } from './lowrank-encode.ts'
export {
  isLowRankDType,
  isLowRankPatch,
  type LowRankDType,
  lowRankHeader,
} from './lowrank-format.ts'
export {
  type MergeBlocks,
  type MergeSide,
  type MergeStrategy,
  type MergeTensorOptions,
  mergeArrays,
  mergeTensor,
  type TensorInfo,
  type TensorMerge,
} from './merge.ts'
export {
  BF16,
  decodeMiniFloat,
  encodeMiniFloat,
  F8_E4M3,
  F8_E5M2,
  F16,
  type MiniFloat,
} from './minifloat.ts'
export {
  createStatsAccumulator,
  type StatsAccumulator,
  statsOf,
  type TensorStats,
  tensorStats,
} from './stats.ts'
export {
  formatNumber,
  formatStats,
  STATS_FIELDS,
  statsFromJSON,
  statsToJSON,
  type TensorStatsJSON,
} from './stats-format.ts'
export {
  type AverageOptions,
  average,
  base,
  ours,
  type TaskArithmeticOptions,
  taskArithmetic,
  theirs,
} from './strategies.ts'
export { type TiesOptions, ties } from './ties.ts'
