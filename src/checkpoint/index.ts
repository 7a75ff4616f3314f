export { tensorDeltas } from './deltas.ts'
export {
  type CheckpointDiff,
  type DiffBasis,
  type DiffOptions,
  type DiffSummary,
  diffCheckpoints,
  type ExactFigures,
  type TensorDiff,
  type TensorSide,
  type TensorStatus,
} from './diff.ts'
export { boundsFromStats, type Range, type StatsBounds } from './diff-bounds.ts'
export {
  type CheckpointIngestOptions,
  type CheckpointIngestResult,
  ingestCheckpoint,
} from './ingest.ts'
export { inspectVersion, type TensorRow } from './inspect.ts'
export {
  type MergeConflict,
  type MergeInput,
  type MergeOutcome,
  mergeCheckpoints,
} from './merge.ts'
export {
  type ConflictReason,
  planMerge,
  type Side,
  type TakeReason,
  type TensorDecision,
} from './merge-plan.ts'
export { type CheckpointMeta, readCheckpointMeta, type TensorRecord } from './meta.ts'
export {
  checkpointStorage,
  checkpointsStorage,
  describeStorage,
  type FileStorage,
  storageOf,
  type TensorStorage,
} from './storage.ts'
export { addedBytes, newTensorBytes } from './stored-bytes.ts'
export { openStoredFile, type StoredFile } from './stored-source.ts'
export {
  describeStrategy,
  parseStrategy,
  type StrategyName,
  type StrategySpec,
  strategyOf,
} from './strategy.ts'
export {
  checkpointStubLines,
  parseStubTensors,
  STUB_TABLE_BUDGET,
  type StubTensor,
  tableFitsStub,
  tensorLine,
} from './stub-lines.ts'
export {
  type CheckpointVersion,
  combineVersions,
  type KnownStats,
  type OpenVersionOptions,
  openVersion,
  stubStats,
  type VersionSource,
  type VersionTensor,
  whyNotCheckpoint,
} from './version.ts'
