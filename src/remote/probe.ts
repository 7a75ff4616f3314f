import { MlvcError } from '../core/index.ts'
import type { RemoteSpec } from './config.ts'
import type { Remote } from './remote.ts'

export type RemoteKind = 'folder' | 's3' | 'hub'

export function remoteKind(url: string): RemoteKind {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase()
  if (scheme === 's3') return 's3'
  if (scheme === 'http' || scheme === 'https') return 'hub'
  return 'folder'
}

export interface RemoteStatus {
  name: string
  kind: RemoteKind
  url: string
  /** The key id of an encrypted remote. */
  encryption: string | undefined
  reachable: boolean
  /** Why not, in one line. */
  problem?: string
}

/** Asks the remote for one listing (with the key, for an encrypted one) within `timeoutMs`. */
export async function probeRemote(
  spec: RemoteSpec,
  remote: Remote,
  timeoutMs = 10_000,
): Promise<RemoteStatus> {
  const status = {
    name: spec.name,
    kind: remoteKind(spec.url),
    url: spec.url,
    encryption: spec.encryption,
  }
  const signal = AbortSignal.timeout(timeoutMs)
  try {
    for await (const _ of remote.list('packs/', { signal })) break
    return { ...status, reachable: true }
  } catch (err) {
    const problem = signal.aborted
      ? `no answer within ${timeoutMs / 1000} s`
      : err instanceof MlvcError
        ? err.message
        : String(err)
    return { ...status, reachable: false, problem }
  }
}
