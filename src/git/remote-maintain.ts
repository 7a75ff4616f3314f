import {
  fsckRemote,
  gcRemote,
  type RemoteFsckReport,
  type RemoteGcReport,
} from '../remote/index.ts'
import { remoteFsckRoots, remoteGcRoots } from './gc-roots.ts'
import type { RepoSession } from './session.ts'

export interface RemoteFsckRequest {
  /** The mlvc remote (and the Git remote of the same name). */
  remote: string
  /** Check the indexes and pack sizes, not every object's bytes. */
  quick?: boolean | undefined
}

/**
 * Checks an mlvc remote: every pack index, every pack's size and (unless `quick`) every object's
 * bytes against its id; then that everything the local branches and tags and the Git remote's
 * refs/remotes/NAME/* reference is on it (see fsckRemote).
 */
export async function fsckRemoteRefs(
  session: RepoSession,
  request: RemoteFsckRequest,
): Promise<RemoteFsckReport> {
  const remote = await session.openRemote(request.remote)
  const roots = await remoteFsckRoots(session.workTree, remote.name)
  return fsckRemote(await session.store(), remote, {
    quick: request.quick === true,
    roots,
    signal: session.signal,
    onProgress: session.onProgress,
  })
}

export interface RemoteGcRequest {
  /** The mlvc remote; what the Git remote of the same name references is kept. */
  remote: string
  /** Branches whose history is kept too. */
  keep?: readonly string[] | undefined
  dryRun?: boolean | undefined
  /** Nothing written in this period is removed. @default 1 h */
  graceMs?: number | undefined
  /** Files kept besides what Git references (those of dataset, labels and model versions). */
  extraRoots?: Iterable<string> | undefined
}

/** What gc of a remote did (or would do), with the number of files it kept. */
export interface RemoteGcResult extends RemoteGcReport {
  /** Files (manifest ids) referenced by the kept refs. */
  roots: number
}

/**
 * Removes from an mlvc remote what no commit reachable from refs/remotes/NAME/* (the Git remote of
 * the same name) or from the `keep` branches references (see remoteGcRoots and gcRemote).
 */
export async function gcRemoteRefs(
  session: RepoSession,
  request: RemoteGcRequest,
): Promise<RemoteGcResult> {
  const remote = await session.openRemote(request.remote)
  const roots = await remoteGcRoots(session.workTree, { remote: remote.name, keep: request.keep })
  for (const id of request.extraRoots ?? []) roots.push(id)
  const report = await gcRemote(await session.store(), remote, {
    roots,
    dryRun: request.dryRun === true,
    ...(request.graceMs !== undefined ? { graceMs: request.graceMs } : {}),
    signal: session.signal,
    onProgress: session.onProgress,
  })
  return { ...report, roots: roots.length }
}
