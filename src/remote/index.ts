export { folderPath, folderRemote } from './folder.ts'
export { checkKey } from './keys.ts'
export type { Remote, RemoteCallOptions, RemoteObjectInfo } from './remote.ts'
