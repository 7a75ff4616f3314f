export { tensorDeltas } from './deltas.ts'
export {
  type CheckpointIngestOptions,
  type CheckpointIngestResult,
  ingestCheckpoint,
} from './ingest.ts'
export { type CheckpointMeta, checkpointMeta, type TensorRecord } from './meta.ts'
export { openStoredFile, type StoredFile } from './stored-source.ts'
export { checkpointStubLines, parseStubTensors, type StubTensor, tensorLine } from './stub-lines.ts'
