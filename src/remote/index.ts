export { chooseRemote, listRemotes, openRemote, type RemoteSpec } from './config.ts'
export { folderPath, folderRemote } from './folder.ts'
export { checkKey } from './keys.ts'
export type { Remote, RemoteCallOptions, RemoteObjectInfo } from './remote.ts'
export { loadRemoteIndex, type RemoteIndex } from './remote-index.ts'
export { type RepairReport, repairFromRemote } from './repair.ts'
export {
  type FetchOptions,
  type FetchReport,
  fetchObjects,
  type PushReport,
  pushObjects,
  type TransferOptions,
} from './transfer.ts'
