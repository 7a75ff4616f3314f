import {
  chmodSync,
  copyFileSync,
  linkSync,
  lstatSync,
  mkdirSync,
  renameSync,
  rmSync,
  type Stats,
} from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fsError, isErrno, MlvcError, uniqueName } from '../core/index.ts'
import { writeContent } from './content.ts'
import { cachePath, type EntityRepo } from './layout.ts'

/**
 * Creates the folders of `path` (relative to `root`) one by one, refusing any that is not a real
 * folder (a symbolic link would lead the write outside the entity folder). `made` remembers
 * folders already checked.
 */
export function ensureParents(root: string, path: string, made: Set<string>): void {
  const parts = path.split('/').slice(0, -1)
  let dir = root
  let rel = ''
  for (const part of parts) {
    dir = join(dir, part)
    rel = rel ? `${rel}/${part}` : part
    if (made.has(rel)) continue
    try {
      mkdirSync(dir)
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw fsError(err, 'creating', dir)
    }
    if (!lstatSync(dir).isDirectory())
      throw new MlvcError(
        'UNSAFE_PATH',
        `${dir} is not a folder (a symbolic link or a file): nothing is written through it`,
        {
          hint: 'remove it, then check out again',
        },
      )
    made.add(rel)
  }
}

/**
 * The cached copy of the content (read-only), written from the store the first time, and again
 * when its size shows it was changed in place through a link.
 */
async function cached(repo: EntityRepo, entry: PlacedEntry): Promise<string> {
  const cache = cachePath(repo, entry.id, entry.mode)
  const info = lstatSync(cache, { throwIfNoEntry: false })
  if (info?.isFile() && info.size === entry.size) return cache
  makeDir(dirname(cache))
  await writeContent(repo.store, entry.id, cache, { replace: 'any', tmpDir: tmpDir(repo) })
  chmodSync(cache, entry.mode & 0o555)
  return cache
}

/** Folders this process made or found (a checkout places every file through them). */
const madeDirs = new Set<string>()

function makeDir(dir: string): void {
  if (madeDirs.has(dir)) return
  mkdirSync(dir, { recursive: true })
  madeDirs.add(dir)
}

function tmpDir(repo: EntityRepo): string {
  const dir = join(repo.stateRoot, 'tmp')
  makeDir(dir)
  return dir
}

export interface PlacedEntry {
  id: string
  mode: number
  size: number
}

/**
 * Forgets the cached copy of `entry` when `file` (whose stat data no longer matches what was
 * placed) is a link to it: the file was changed in place, and so was the cache through it. The
 * next checkout writes the cache again from the store.
 */
export function dropIfEditedThrough(
  repo: EntityRepo,
  entry: { id: string; mode: number },
  file: Stats,
): void {
  if (file.nlink < 2) return
  const cache = cachePath(repo, entry.id, entry.mode)
  const info = lstatSync(cache, { throwIfNoEntry: false })
  if (info && info.ino === file.ino && info.dev === file.dev) rmSync(cache, { force: true })
}

/** How a file was placed. */
export type Placement = 'linked' | 'copied'

/** Moves `tmp` to `abs`; from another file system, copies it beside `abs` first. */
function moveInto(tmp: string, abs: string, mode: number): void {
  try {
    renameSync(tmp, abs)
    return
  } catch (err) {
    if (!isErrno(err, 'EXDEV')) {
      rmSync(tmp, { force: true })
      throw fsError(err, 'writing', abs)
    }
  }
  const beside = join(dirname(abs), `.${basename(abs)}.${uniqueName('mlvc')}`)
  try {
    copyFileSync(tmp, beside)
    chmodSync(beside, mode)
    renameSync(beside, abs)
  } catch (err) {
    rmSync(beside, { force: true })
    throw fsError(err, 'writing', abs)
  } finally {
    rmSync(tmp, { force: true })
  }
}

/**
 * Writes the content of `entry` to `abs` (replacing a regular file there): a hard link to the
 * read-only cached copy when `link`, so that the file shares the cache's bytes and cannot be
 * changed in place; a copy where linking fails (another file system, too many links) or when not
 * `link`. Temporary files go to the entity state, never among the user's files.
 */
export async function placeEntry(
  repo: EntityRepo,
  entry: PlacedEntry,
  abs: string,
  link: boolean,
): Promise<Placement> {
  const existing = lstatSync(abs, { throwIfNoEntry: false })
  if (existing && !existing.isFile())
    throw new MlvcError('UNSAFE_PATH', `${abs} is not a regular file; nothing is written over it`, {
      hint: 'remove it, then check out again',
    })
  if (!link) {
    await writeContent(repo.store, entry.id, abs, { replace: 'file', tmpDir: tmpDir(repo) })
    chmodSync(abs, entry.mode)
    return 'copied'
  }
  const cache = await cached(repo, entry)
  const tmp = join(tmpDir(repo), uniqueName('link'))
  let placement: Placement = 'linked'
  try {
    linkSync(cache, tmp)
  } catch (err) {
    if (
      !isErrno(err, 'EXDEV') &&
      !isErrno(err, 'EPERM') &&
      !isErrno(err, 'EMLINK') &&
      !isErrno(err, 'ENOTSUP')
    )
      throw fsError(err, 'linking', abs)
    copyFileSync(cache, tmp)
    chmodSync(tmp, entry.mode & 0o555)
    placement = 'copied'
  }
  moveInto(tmp, abs, entry.mode & 0o555)
  return placement
}
