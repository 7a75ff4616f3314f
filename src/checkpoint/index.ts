export { tensorDeltas } from './deltas.ts'
export {
  type CheckpointIngestOptions,
  type CheckpointIngestResult,
  ingestCheckpoint,
} from './ingest.ts'
export { type MergeInput, type MergeOutcome, mergeCheckpoints } from './merge.ts'
export { planMerge, type Side, type TensorDecision } from './merge-plan.ts'
export { type CheckpointMeta, checkpointMeta, type TensorRecord } from './meta.ts'
export { openStoredFile, type StoredFile } from './stored-source.ts'
export {
  describeStrategy,
  parseStrategy,
  type StrategyName,
  type StrategySpec,
  strategyOf,
} from './strategy.ts'
export { checkpointStubLines, parseStubTensors, type StubTensor, tensorLine } from './stub-lines.ts'
