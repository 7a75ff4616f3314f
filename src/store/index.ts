export {
  formatId,
  hex,
  idOf,
  type ObjectId,
  type ObjectKind,
  parseId,
  sha256Digest,
} from './cid.ts'
export {
  type CdcOptions,
  type CdcParams,
  type Chunker,
  type Cutter,
  cdcParams,
  createCutter,
  cutPoints,
  DEFAULT_CDC,
  fastcdc,
} from './fastcdc.ts'
export { type FsckIssue, type FsckOptions, type FsckReport, fsckStore } from './fsck.ts'
export { GC_GRACE_MS, type GcOptions, type GcReport, gcStore } from './gc.ts'
export { type IngestOptions, type IngestResult, ingestFile } from './ingest.ts'
export {
  type BlobManifest,
  decodeManifest,
  encodeManifest,
  type Manifest,
  manifestReferences,
} from './manifest.ts'
export { type MaterializeOptions, materialize, readManifest } from './materialize.ts'
export { listPins, pin, unpin } from './pins.ts'
export { openStore, type Store, type StoreOptions, storeSize } from './store.ts'
