export { TRACK_ATTRIBUTES, trackedPatterns, trackPatterns, untrackPatterns } from './attributes.ts'
export { objectInfo, readObjects } from './cat-file.ts'
export { type DiffSelection, type DiffTotals, diffFiles } from './diff.ts'
export {
  type DriverArgs,
  type DriverSide,
  diffDriverReport,
  parseDriverArgs,
} from './diff-driver.ts'
export { type FileReport, type ReportOptions, reportUnit } from './diff-report.ts'
export {
  blobListing,
  type FileVersion,
  type Listing,
  startsLikeStub,
  type WorkTreeOptions,
  workTreeListing,
  workTreeVersion,
} from './diff-sides.ts'
export { changedUnits, type DiffUnit } from './diff-units.ts'
export { type GitOptions, type GitResult, git, runGit } from './exec.ts'
export { externalDataGroup, externalDataReason, keepOneSide } from './external-data.ts'
export { readFd } from './fd-io.ts'
export { createFilterHandlers, type FilterContext } from './filter.ts'
export { type FilterHandlers, type FilterStreams, runFilterProtocol } from './filter-process.ts'
export { type FilterSettings, filterSettings, remoteFetcher, serveFilter } from './filter-serve.ts'
export { gitRoots } from './gc-roots.ts'
export {
  type InspectOptions,
  inspectVersions,
  isShardIndex,
  localVersions,
  type RevisionScope,
  revisionVersions,
} from './inspect.ts'
export {
  type ConfigScope,
  commandLine,
  gitConfigEntries,
  hooksDir,
  hooksInstalled,
  installedFilter,
  installHooks,
  type MlvcCommand,
  removeGitConfig,
  uninstallHooks,
  writeGitConfig,
} from './install.ts'
export {
  type DriverConflict,
  type DriverResult,
  type MergeDriverFiles,
  type MergeDriverOptions,
  runMergeDriver,
} from './merge-driver.ts'
export { type StrategyOverride, type StrategyRules, strategyChooser } from './merge-strategy.ts'
export {
  conflictLines,
  type MergeReport,
  type MergeStubsInput,
  mergeStubs,
  readSides,
  type SideStubs,
  type StrategyPrompt,
} from './merge-stubs.ts'
export { type PrePushOptions, type PrePushRefs, parsePrePushInput, prePush } from './pre-push.ts'
export {
  indexStubs,
  type MaterializeReport,
  materializeWorkTree,
  type PullResult,
  pull,
  type UnwrittenFile,
} from './pull.ts'
export { findGitRepo, type GitRepo } from './repo.ts'
export {
  fsckRepository,
  type GitIssue,
  type RepoFsckOptions,
  type RepoFsckResult,
  type RepoIssue,
  type TreeSource,
} from './repo-fsck.ts'
export { type Resolved, type ResolveInput, resolveConflict } from './resolve.ts'
export {
  type BadStub,
  describeBad,
  describeRaw,
  type FoundStub,
  findStubs,
  historyBlobs,
  indexBlobs,
  type PathBlob,
  type RevSelection,
  type ScanResult,
  trackedPaths,
  treeBlobs,
} from './scan.ts'
export {
  type RepoSession,
  type RepoSessionOptions,
  readRepoConfig,
  repoSession,
  type WorkTreeRef,
} from './session.ts'
export {
  fileIdentity,
  openStatCache,
  type StatCache,
  type StatEntry,
  sameIdentity,
  statEntry,
} from './stat-cache.ts'
export {
  type FileState,
  type FileStatus,
  type RepoStatus,
  repoStatus,
  type StoredFileRow,
  storedFiles,
} from './status.ts'
export {
  formatStub,
  looksLikeStub,
  MAX_STUB_BYTES,
  parseStub,
  readStub,
  type Stub,
  type StubProblem,
  type StubReading,
  stubProblemError,
} from './stub.ts'
export { checkStubContent, stubMismatch } from './stub-check.ts'
export {
  type FetchResult,
  fetch,
  fetchStubs,
  type PushResult,
  push,
  pushStubs,
  type TransferSelection,
} from './transfer.ts'
export type { BadStubOutcome, RepoWarning } from './warnings.ts'
export { recheckInIndex, type WorkTreeWriter, writeContentOverStub } from './worktree.ts'
