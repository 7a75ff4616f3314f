import { existsSync, readFileSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import {
  acquireLock,
  fsError,
  isErrno,
  type Lock,
  MlvcError,
  writeFileAtomic,
} from '../core/index.ts'
import { joinByPath } from './join.ts'
import type { EntityPaths, EntityRef } from './layout.ts'
import { type ManifestEntry, readManifestFile } from './manifest.ts'
import { readStatCache, type StatRecord } from './stat-cache.ts'

/** What is checked out in an entity folder (local state). */
export interface HeadState {
  /** The tag checked out or last committed; absent for an entity never committed. */
  tag?: string | undefined
  /**
   * Only some of the version's files are in the folder (a sampled or --bare checkout): a file of
   * the index missing from the folder is then not a deletion.
   */
  partial: boolean
  /** A checkout of this tag began and did not finish: running it again completes it. */
  pending?: string | undefined
}

export function readHead(paths: EntityPaths): HeadState {
  try {
    const value = JSON.parse(readFileSync(paths.head, 'utf8')) as HeadState
    return { tag: value.tag, partial: value.partial === true, pending: value.pending }
  } catch (err) {
    // Nothing checked out here yet (a clone): the folder holds none of the files, and that is
    // no deletion.
    if (isErrno(err, 'ENOENT') || err instanceof SyntaxError) return { partial: true }
    throw fsError(err, 'reading', paths.head)
  }
}

export async function writeHead(paths: EntityPaths, head: HeadState): Promise<void> {
  await mkdir(paths.state, { recursive: true })
  await writeFileAtomic(paths.head, `${JSON.stringify(head)}\n`)
}

/** The staged manifest: the index when something was staged, else the checked-out MANIFEST. */
export function stagedFile(paths: EntityPaths): string {
  return existsSync(paths.index) ? paths.index : paths.manifest
}

/**
 * Takes the entity's lock: add, reset, commit and checkout of one entity never run at once. A
 * second one fails at once with LOCKED naming the holder (nothing is half-done: the first one's
 * results are published atomically at its end).
 */
export async function lockEntity(paths: EntityPaths, ref: EntityRef): Promise<Lock> {
  await mkdir(paths.state, { recursive: true })
  try {
    return await acquireLock(paths.lock, `${ref.kind} ${ref.name}`)
  } catch (err) {
    if (err instanceof MlvcError && err.code === 'LOCKED')
      throw new MlvcError(
        'LOCKED',
        `${err.message} (another add, commit, reset or checkout of it is running)`,
        {
          hint: err.hint ?? 'wait for it to finish',
        },
      )
    throw err
  }
}

export async function withEntityLock<T>(
  paths: EntityPaths,
  ref: EntityRef,
  task: () => Promise<T>,
): Promise<T> {
  const lock = await lockEntity(paths, ref)
  try {
    return await task()
  } finally {
    await lock.release()
  }
}

/**
 * The folder's files (`walked`, in manifest order) joined with what is staged, the stat cache and
 * the committed MANIFEST, path by path. When nothing is staged, the staged manifest is the
 * committed one, read once for both.
 */
export function* stagedAndCommitted<W extends { path: string }>(
  paths: EntityPaths,
  walked: Iterable<W>,
): Generator<
  [W | undefined, ManifestEntry | undefined, StatRecord | undefined, ManifestEntry | undefined]
> {
  const staged = stagedFile(paths)
  if (staged === paths.manifest) {
    for (const [file, entry, cached] of joinByPath(
      walked,
      readManifestFile(staged, true),
      readStatCache(paths.statCache),
    ))
      yield [file, entry, cached, entry]
    return
  }
  yield* joinByPath(
    walked,
    readManifestFile(staged, true),
    readStatCache(paths.statCache),
    readManifestFile(paths.manifest, true),
  )
}
