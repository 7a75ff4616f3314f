export { chooseRemote, listRemotes, openRemote, type RemoteSpec } from './config.ts'
export { type MasterKey, newKey } from './crypt.ts'
export { MARKER_KEY } from './encrypted.ts'
export { folderPath, folderRemote } from './folder.ts'
export {
  fsckRemote,
  type RemoteFsckOptions,
  type RemoteFsckReport,
  type RemoteIssue,
} from './fsck.ts'
export { gcRemote, type RemoteGcOptions, type RemoteGcReport } from './gc.ts'
export { hubRemote, parseHubUrl } from './hub.ts'
export { hubCredentials, storeHubCredentials } from './hub-credentials.ts'
export { formatKey, keyDir, loadKey, parseKey, saveKey } from './keyring.ts'
export { checkKey } from './keys.ts'
export { probeRemote, type RemoteKind, type RemoteStatus, remoteKind } from './probe.ts'
export { emptyPushReport, type PushReport, pushObjects } from './push.ts'
export type { Remote, RemoteCallOptions, RemoteObjectInfo } from './remote.ts'
export { loadRemoteIndex, type RemoteIndex } from './remote-index.ts'
export { type RepairReport, repairFromRemote } from './repair.ts'
export { type RetryPolicy, withRetries } from './retry.ts'
export { parseS3Url, type S3Location, s3Remote } from './s3.ts'
export {
  type FetchOptions,
  type FetchReport,
  fetchObjects,
  type TransferOptions,
} from './transfer.ts'
