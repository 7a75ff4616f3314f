export { findDamaged, type StoredObject } from './check.ts'
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
  type Closure,
  type ClosureOptions,
  closure,
  isComplete,
  type ObjectRef,
} from './closure.ts'
export {
  type ContentOptions,
  contentSource,
  type DeltaCodec,
  readChunk,
  readChunksVerified,
  readManifest,
} from './content.ts'
export { putContentManifest } from './content-manifest.ts'
export { type Damage, listDamage, rebuildIndexes, retireDamaged } from './damage.ts'
export { createDigestList, type DigestList } from './digest-list.ts'
export {
  type DataKind,
  type DataRegion,
  decodeObject,
  type Encoding,
  encodeObject,
  RAW,
} from './encoding.ts'
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
export {
  type CorruptIssue,
  type FsckIssue,
  type FsckOptions,
  type FsckReport,
  fsckStore,
} from './fsck.ts'
export { GC_GRACE_MS, type GcOptions, type GcReport, gcStore } from './gc.ts'
export { hashSource } from './hash-source.ts'
export { decodeIdx, encodeIdx, type IdxEntry } from './idx.ts'
export {
  type ChunkedContent,
  chunkSource,
  type IngestOptions,
  type IngestResult,
  ingestFile,
  ingestSource,
} from './ingest.ts'
export {
  type BlobManifest,
  type ChunkRef,
  chunkRefs,
  type DeltaManifest,
  decodeManifest,
  encodeBlobManifest,
  encodeManifest,
  encodePartManifest,
  type FileManifest,
  type FileManifestBuilder,
  type FilePart,
  fileManifestBuilder,
  type Manifest,
  manifestReferences,
  onePartId,
  type PartManifest,
} from './manifest.ts'
export {
  blocks,
  type MaterializeOptions,
  materialize,
  placeContent,
  readBlob,
  streamContent,
} from './materialize.ts'
export { createPackFile, type PackFileBuilder } from './pack-file.ts'
export { MAX_PACK_BYTES, RECORD_HEADER } from './pack-format.ts'
export { listPins, pin, unpin } from './pins.ts'
export { claimReady, dropReady, offerReady, readyPath } from './ready.ts'
export {
  type ByteSource,
  bufferSource,
  fileSource,
  iterableSource,
  prefixedSource,
} from './source.ts'
export { openStore, REPAIR_HINT, type Store, type StoreOptions, storeSize } from './store.ts'
export { decodeStored, storedMatches } from './stored.ts'
export { type ChunksFromFile, storeChunksFrom } from './stored-chunks.ts'
export { addPackEntries, createObjectTable, type Location, type ObjectTable } from './table.ts'
