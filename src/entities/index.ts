export { type AddOptions, type AddReport, addFiles } from './add.ts'
export { type CheckoutOptions, type CheckoutReport, checkoutEntity } from './checkout.ts'
export { type CommitOptions, type CommitReport, commitEntity } from './commit.ts'
export {
  type ExchangeOptions,
  type ExportReport,
  exportVersion,
  type ImportReport,
  importEntity,
} from './exchange.ts'
export {
  diffVersions,
  type EntityListing,
  entityLog,
  type FileChange,
  type LineageNode,
  type LogEntry,
  lineageOf,
  listEntities,
  showVersion,
  type VersionDiff,
  type VersionInfo,
} from './history.ts'
export { type InitOptions, initEntity } from './init.ts'
export {
  ENTITY_KINDS,
  type EntityKind,
  type EntityRef,
  type EntityRepo,
} from './layout.ts'
export { type EntityFsckReport, type EntityIssue, fsckEntities, pruneCache } from './maintain.ts'
export { type ManifestEntry, readManifestFile, writeManifestFile } from './manifest.ts'
export { resetFiles } from './reset.ts'
export { entityRoots } from './roots.ts'
export { parseSample, type Sample } from './sample.ts'
export {
  type EntitySpec,
  formatSpec,
  type Lineage,
  type Mutability,
  parseSpec,
  parseTag,
  tagOf,
} from './spec.ts'
export { type EntityStatus, entityStatus } from './status.ts'
export { type EntityTag, entityTags, resolveVersion } from './tags.ts'
export {
  type EntityFetchReport,
  type EntityPushReport,
  fetchEntity,
  pushEntity,
} from './transfer.ts'
