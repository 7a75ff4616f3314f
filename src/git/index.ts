export { TRACK_ATTRIBUTES, trackedPatterns, trackPatterns, untrackPatterns } from './attributes.ts'
export { objectInfo, readObjects } from './cat-file.ts'
export { type GitOptions, type GitResult, git, runGit } from './exec.ts'
export { readFd } from './fd-io.ts'
export { createFilterHandlers, type FilterContext, type FilterGit } from './filter.ts'
export { type FilterHandlers, runFilterProtocol } from './filter-process.ts'
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
export { findGitRepo, type GitRepo } from './repo.ts'
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
  fileIdentity,
  openStatCache,
  type StatCache,
  type StatEntry,
  sameIdentity,
  statEntry,
} from './stat-cache.ts'
export {
  formatStub,
  looksLikeStub,
  MAX_STUB_BYTES,
  parseStub,
  readStub,
  type Stub,
  type StubProblem,
  type StubReading,
} from './stub.ts'
export { checkStubContent, stubMismatch } from './stub-check.ts'
export { recheckInIndex, type WorkTreeWriter, writeContentOverStub } from './worktree.ts'
