export { TRACK_ATTRIBUTES, trackedPatterns, trackPatterns, untrackPatterns } from './attributes.ts'
export { objectInfo, readObjects } from './cat-file.ts'
// The operations a command runs once (pull, push, merges, diffs, fsck, status) are loaded when
// first called. The filter process, which git starts for every git command, then loads only the
// filter's modules: each module more is startup time for every `git status` and `git add`.
export type { DiffSelection, DiffTotals } from './diff.ts'
export { type DriverArgs, type DriverSide, parseDriverArgs } from './diff-args.ts'
export type { FileReport, ReportOptions } from './diff-report.ts'
export type { FileVersion, Listing, WorkTreeOptions } from './diff-sides.ts'
export { type GitOptions, type GitResult, git, runGit } from './exec.ts'
export { readFd } from './fd-io.ts'
export { createFilterHandlers, type FilterContext, type FilterGit } from './filter.ts'
export { type FilterHandlers, type FilterStreams, runFilterProtocol } from './filter-process.ts'
export { type FilterSettings, filterSettings, remoteFetcher, serveFilter } from './filter-serve.ts'
export type { InspectOptions, RevisionScope } from './inspect.ts'
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
export type {
  DriverConflict,
  DriverResult,
  MergeDriverFiles,
  MergeDriverOptions,
} from './merge-driver.ts'
export { conflictLines, externalDataReason, keepOneSide } from './merge-messages.ts'
export type { StrategyOverride, StrategyRules } from './merge-strategy.ts'
export type { MergeReport, MergeStubsInput, SideStubs, StrategyPrompt } from './merge-stubs.ts'
export type { PrePushOptions } from './pre-push.ts'
export type { MaterializeReport, PullResult, UnwrittenFile } from './pull.ts'
export type {
  RemoteFsckRequest,
  RemoteGcRequest,
  RemoteGcResult,
} from './remote-maintain.ts'
export { findGitRepo, type GitRepo } from './repo.ts'
export type {
  GitIssue,
  RepoFsckOptions,
  RepoFsckResult,
  RepoIssue,
  TreeSource,
} from './repo-fsck.ts'
export type { Resolved, ResolveInput } from './resolve.ts'
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
export type { FileState, FileStatus, RepoStatus, StoredFileRow } from './status.ts'
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
export type { FetchResult, PushResult, TransferSelection } from './transfer.ts'
export type { BadStubOutcome, RepoWarning } from './warnings.ts'
export { recheckInIndex, type WorkTreeWriter, writeContentOverStub } from './worktree.ts'

type Diff = typeof import('./diff.ts')
type DiffDriver = typeof import('./diff-driver.ts')
type ExternalData = typeof import('./external-data.ts')
type GcRoots = typeof import('./gc-roots.ts')
type Inspect = typeof import('./inspect.ts')
type MergeDriver = typeof import('./merge-driver.ts')
type MergeStrategy = typeof import('./merge-strategy.ts')
type MergeStubs = typeof import('./merge-stubs.ts')
type PrePush = typeof import('./pre-push.ts')
type Pull = typeof import('./pull.ts')
type RemoteMaintain = typeof import('./remote-maintain.ts')
type RepoFsck = typeof import('./repo-fsck.ts')
type Resolve = typeof import('./resolve.ts')
type Status = typeof import('./status.ts')
type Transfer = typeof import('./transfer.ts')

export const diffFiles: Diff['diffFiles'] = async (session, selection) =>
  (await import('./diff.ts')).diffFiles(session, selection)
export const diffDriverReport: DiffDriver['diffDriverReport'] = async (session, sides) =>
  (await import('./diff-driver.ts')).diffDriverReport(session, sides)
export const externalDataGroup: ExternalData['externalDataGroup'] = async (workTree, path) =>
  (await import('./external-data.ts')).externalDataGroup(workTree, path)
export const gitRoots: GcRoots['gitRoots'] = async (workTree) =>
  (await import('./gc-roots.ts')).gitRoots(workTree)
export const inspectVersions: Inspect['inspectVersions'] = async (files, options) =>
  (await import('./inspect.ts')).inspectVersions(files, options)
export const localVersions: Inspect['localVersions'] = async (abs, repo) =>
  (await import('./inspect.ts')).localVersions(abs, repo)
export const revisionVersions: Inspect['revisionVersions'] = async (scope, spec) =>
  (await import('./inspect.ts')).revisionVersions(scope, spec)
export const runMergeDriver: MergeDriver['runMergeDriver'] = async (session, files, options) =>
  (await import('./merge-driver.ts')).runMergeDriver(session, files, options)
export const strategyChooser: MergeStrategy['strategyChooser'] = async (rules) =>
  (await import('./merge-strategy.ts')).strategyChooser(rules)
export const mergeStubs: MergeStubs['mergeStubs'] = async (session, input) =>
  (await import('./merge-stubs.ts')).mergeStubs(session, input)
export const prePush: PrePush['prePush'] = async (session, options) =>
  (await import('./pre-push.ts')).prePush(session, options)
export const indexStubs: Pull['indexStubs'] = async (workTree) =>
  (await import('./pull.ts')).indexStubs(workTree)
export const materializeWorkTree: Pull['materializeWorkTree'] = async (session, stubs) =>
  (await import('./pull.ts')).materializeWorkTree(session, stubs)
export const pull: Pull['pull'] = async (session, options) =>
  (await import('./pull.ts')).pull(session, options)
export const fsckRemoteRefs: RemoteMaintain['fsckRemoteRefs'] = async (session, request) =>
  (await import('./remote-maintain.ts')).fsckRemoteRefs(session, request)
export const gcRemoteRefs: RemoteMaintain['gcRemoteRefs'] = async (session, request) =>
  (await import('./remote-maintain.ts')).gcRemoteRefs(session, request)
export const fsckRepository: RepoFsck['fsckRepository'] = async (store, options) =>
  (await import('./repo-fsck.ts')).fsckRepository(store, options)
export const resolveConflict: Resolve['resolveConflict'] = async (session, input) =>
  (await import('./resolve.ts')).resolveConflict(session, input)
export const repoStatus: Status['repoStatus'] = async (session) =>
  (await import('./status.ts')).repoStatus(session)
export const storedFiles: Status['storedFiles'] = async (session, rev) =>
  (await import('./status.ts')).storedFiles(session, rev)
export const fetch: Transfer['fetch'] = async (session, options) =>
  (await import('./transfer.ts')).fetch(session, options)
export const fetchStubs: Transfer['fetchStubs'] = async (session, stubs, remote) =>
  (await import('./transfer.ts')).fetchStubs(session, stubs, remote)
export const push: Transfer['push'] = async (session, options) =>
  (await import('./transfer.ts')).push(session, options)
export const pushStubs: Transfer['pushStubs'] = async (session, stubs, remote) =>
  (await import('./transfer.ts')).pushStubs(session, stubs, remote)
