export {
  type AttachOptions,
  keepAttachment,
  type RepoFileRef,
  readAttachments,
  readStoreIds,
  storeRepoFile,
} from './attach.ts'
export {
  type Comparison,
  compareExperiments,
  flattenParams,
  type MetricRow,
  type MetricSummary,
  type ParamRow,
} from './compare.ts'
export {
  type DbxObject,
  type DbxValue,
  dbxNumber,
  formatDbxJson,
  formatLogLine,
  parseDbxJson,
} from './dbx-json.ts'
export {
  type CreateExperimentOptions,
  createExperiment,
  type ExperimentHandle,
  type Logger,
  openExperiment,
  PATCH_FILE,
} from './experiment.ts'
export { type FetchRepoFilesOptions, type FetchRepoFilesReport, fetchRepoFiles } from './fetch.ts'
export { type ExpFileRef, type RefFileRef, readFilesJson, refFile } from './files.ts'
export { type ExpFsckIssue, type ExpFsckReport, fsckRepo } from './fsck.ts'
export { EXP_GC_GRACE_MS, type ExpGcOptions, type ExpGcReport, gcRepoFiles } from './gc.ts'
export { ID_ALPHABET, ID_LENGTH, isSafeId, newExperimentId } from './ids.ts'
export {
  type LogEvent,
  type LogRead,
  listStreams,
  parseLog,
  readAllLogs,
  readLog,
} from './log-read.ts'
export { ATOMIC_LINE, type LogWriter, openLogWriter } from './log-write.ts'
export { type ExpMeta, type GitMeta, readMeta } from './meta.ts'
export {
  type Aggregate,
  aggregate,
  eventMatches,
  type MetricTable,
  metricSeries,
  metricTable,
  numericKeys,
  type Point,
} from './metrics.ts'
export { readMissing } from './missing.ts'
export { experimentLabel, type Plot, type PlotOptions, plotMetric } from './plot.ts'
export {
  display,
  type Field,
  fieldLabel,
  fieldValue,
  parseField,
  parseWhere,
  type QueryOptions,
  type QueryRow,
  queryExperiments,
  type Where,
} from './query.ts'
export {
  type DbxConfig,
  type ExpRepo,
  findExpRepoRoot,
  type InitRepoOptions,
  initExpRepo,
  type OpenRepoOptions,
  openExpRepo,
  saveConfig,
} from './repo.ts'
export { hasRepoFile, listRepoFiles } from './repofiles.ts'
export { removeExperiments } from './rm.ts'
export { loadStorageRoots, ROOTS_KEY, storageRoots } from './roots.ts'
export {
  type Experiment,
  type LoadResult,
  loadExperiments,
  type Problem,
  pickExperiment,
} from './scan.ts'
export { type ChartOptions, type ChartSeries, renderLineChart } from './svg.ts'
export {
  type ExpSide,
  type HistoryRecord,
  type IndexEntry,
  isUrl,
  type LocalState,
  localSide,
  type OpenSideOptions,
  openSide,
  REMOTE_KEYS,
  refreshLocalState,
  remoteSide,
  resolveRemote,
  type SideState,
  type SyncOptions,
  type SyncReport,
  syncAndClose,
  syncSides,
} from './sync/index.ts'
export { type ExpVersion, readVersion } from './version.ts'
