import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { hashFile } from '../core/index.ts'
import { loadRemoteIndex } from '../remote/index.ts'
import { isComplete, parseId, type Store } from '../store/index.ts'
import {
  type BadStub,
  type FoundStub,
  findStubs,
  indexBlobs,
  type PathBlob,
  treeBlobs,
} from './scan.ts'
import type { RepoSession } from './session.ts'
import {
  fileIdentity,
  openStatCache,
  type StatCache,
  sameIdentity,
  statEntry,
} from './stat-cache.ts'
import { formatStub } from './stub.ts'
import { warnBadStubs } from './warnings.ts'

export type FileState = 'materialized' | 'stub' | 'modified' | 'absent'

export interface FileStatus {
  path: string
  size: number
  id: string
  workTree: FileState
  /** The content is in the local store. */
  local: boolean
  /** The content is on the default remote (undefined: no remote configured or reachable). */
  remote: boolean | undefined
}

export interface RepoStatus {
  /** Every file stored by mlvc in the index. */
  files: FileStatus[]
  /** Files at tracked paths committed raw (without the filter). */
  raw: PathBlob[]
  /** Unusable stubs in the index. */
  bad: BadStub[]
}

/** A work-tree file against the stub the index has for it; the stat cache answers unchanged ones. */
async function workTreeState(
  workTree: string,
  found: FoundStub,
  cache: StatCache,
): Promise<FileState> {
  const abs = join(workTree, found.path)
  const identity = await fileIdentity(abs)
  if (!identity) return 'absent'
  const text = formatStub(found.stub)
  const cached = cache.get(found.path)
  if (cached && cached.stub === text && sameIdentity(cached, identity)) return 'materialized'
  if (identity.size === Buffer.byteLength(text) && (await readFile(abs, 'utf8')) === text)
    return 'stub'
  if (identity.size !== found.stub.size) return 'modified'
  const { sha256 } = await hashFile(abs)
  if (sha256 !== found.stub.sha256) return 'modified'
  cache.set(found.path, statEntry(identity, sha256, text))
  return 'materialized'
}

/** Whether the default remote holds a file; undefined (with a warning) when it cannot be asked. */
async function remotePresence(
  session: RepoSession,
  store: Store,
): Promise<((id: string) => boolean) | undefined> {
  try {
    const index = await loadRemoteIndex(store, await session.openRemote())
    return (id) => index.lookup(parseId(id).digest) !== undefined
  } catch (err) {
    session.onWarning?.({ kind: 'remote-unchecked', message: (err as Error).message })
    return undefined
  }
}

/** The index's tracked files: work-tree state, local store, default remote; raw and bad ones. */
export async function repoStatus(session: RepoSession): Promise<RepoStatus> {
  const { workTree } = session
  const { stubs, raw, bad } = await findStubs(workTree, await indexBlobs(workTree))
  const cache = await openStatCache(session.gitDir)
  const store = await session.store()
  const onRemote = await remotePresence(session, store)
  const files: FileStatus[] = []
  for (const found of stubs) {
    files.push({
      path: found.path,
      size: found.stub.size,
      id: found.stub.id,
      workTree: await workTreeState(workTree, found, cache),
      local: await isComplete(store, found.stub.id),
      remote: onRemote?.(found.stub.id),
    })
  }
  await cache.save()
  return { files, raw, bad }
}

export interface StoredFileRow {
  path: string
  size: number
  sha256: string
  id: string
  /** The content is in the local store. */
  local: boolean
}

/** Files stored by mlvc in a commit (unusable stubs are warned about and left out). */
export async function storedFiles(session: RepoSession, rev: string): Promise<StoredFileRow[]> {
  const { stubs, bad } = await findStubs(session.workTree, await treeBlobs(session.workTree, rev))
  warnBadStubs(session.onWarning, bad, 'not listed')
  const store = await session.store()
  const rows: StoredFileRow[] = []
  for (const s of stubs) {
    rows.push({
      path: s.path,
      size: s.stub.size,
      sha256: s.stub.sha256,
      id: s.stub.id,
      local: await isComplete(store, s.stub.id),
    })
  }
  return rows
}
