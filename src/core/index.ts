export { maxOf, minOf, pushAll } from './arrays.ts'
export { base32Decode, base32Encode, base32Value } from './base32.ts'
export {
  type ConfigLayer,
  type ConfigSources,
  type ConfigTree,
  configBoolean,
  configString,
  configValue,
  isTree,
  type LoadedConfig,
  layeredConfig,
  loadConfig,
  mergeConfig,
  parseConfig,
  updateConfigFile,
  userConfigDir,
} from './config.ts'
export {
  type ErrorCode,
  fileError,
  fsError,
  isErrno,
  isMlvcError,
  MlvcError,
  type MlvcErrorOptions,
  naming,
} from './errors.ts'
export {
  ensureDir,
  fsyncDir,
  readFull,
  readFullSync,
  uniqueName,
  writeAllSync,
  writeFileAtomic,
  writeFileAtomicSync,
  writevAllSync,
} from './fs.ts'
export { globToRegExp } from './glob.ts'
export { type FileHash, hashFile, hashFileSync, matchesDigest, sha256Hex } from './hash.ts'
export { acquireLock, type Lock, type LockOptions } from './lock.ts'
export { at, must } from './must.ts'
export { mapConcurrent } from './pool.ts'
export type { ProgressEvent, ProgressHandler, ProgressOptions } from './progress.ts'
export { quote, safeForTerminal, shellQuote } from './quote.ts'
export {
  listDirIfExists,
  type OpenFile,
  openForReading,
  pathExists,
  readTextIfExists,
  withFileForReading,
} from './read.ts'
export {
  describeSettings,
  expandHome,
  type RemoteSettings,
  readSetting,
  type SettingKey,
  type Settings,
  settingFile,
  settingSource,
} from './settings.ts'
export { checkNoLinkedParents, checkWriteTarget, placeFile, type ReplaceRule } from './target.ts'
export { workerUrl } from './worker-url.ts'
