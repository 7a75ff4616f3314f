import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  ensureDir,
  fsError,
  isErrno,
  isMlvcError,
  sha256Hex,
  writeFileAtomic,
} from '../core/index.ts'
import {
  addPackEntries,
  createObjectTable,
  decodeIdx,
  type IdxEntry,
  type Location,
  type ObjectTable,
  type Store,
} from '../store/index.ts'
import { refuseIfEncrypted } from './encrypted.ts'
import type { Remote } from './remote.ts'

/**
 * What a remote holds: the union of its pack indexes. Remote packs are immutable and each has one
 * index, written after the pack, so an index is downloaded once and cached in the local store
 * (`<store>/remotes/<hash of url>/`). Objects in a pack without an index are not on the remote.
 */
export interface RemoteIndex {
  /** Pack names; a Location's `pack` indexes this list. */
  packs: string[]
  /**
   * Remote pack indexes that are damaged: their packs' objects count as absent (a fetch reports
   * them missing, a push sends them again) instead of making the whole remote unusable.
   */
  unreadable: Array<{ key: string; message: string }>
  table: ObjectTable
  lookup(digest: Uint8Array): Location | undefined
}

export const PACKS_PREFIX = 'packs/'

export function remotePackKey(name: string): string {
  return `${PACKS_PREFIX}${name}.pack`
}

export function remoteIdxKey(name: string): string {
  return `${PACKS_PREFIX}${name}.idx`
}

/** This store's folder for what it knows of `remote` (its pack indexes, packs waiting to go). */
export function remoteCacheDir(store: Store, remote: Remote): string {
  const hash = sha256Hex(remote.url).slice(0, 16)
  return join(store.layout.root, 'remotes', hash)
}

async function cachedNames(dir: string): Promise<Set<string>> {
  try {
    return new Set(
      (await readdir(dir)).filter((f) => f.endsWith('.idx')).map((f) => f.slice(0, -4)),
    )
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return new Set()
    throw fsError(err, 'listing', dir)
  }
}

/** A cached remote index, or undefined when the cached copy is damaged (it is downloaded again). */
async function readCached(path: string): Promise<IdxEntry[] | undefined> {
  try {
    return decodeIdx(await readFile(path), path, true)
  } catch (err) {
    if (isMlvcError(err, 'CORRUPT')) return undefined
    throw fsError(err, 'reading', path)
  }
}

export async function loadRemoteIndex(store: Store, remote: Remote): Promise<RemoteIndex> {
  const dir = remoteCacheDir(store, remote)
  await ensureDir(dir)
  const cached = await cachedNames(dir)
  const packs: string[] = []
  const unreadable: RemoteIndex['unreadable'] = []
  const table = createObjectTable()
  for await (const info of remote.list(PACKS_PREFIX)) {
    if (!info.key.endsWith('.idx')) continue
    const name = info.key.slice(PACKS_PREFIX.length, -4)
    const local = join(dir, `${name}.idx`)
    let entries = cached.has(name) ? await readCached(local) : undefined
    if (!entries) {
      const data = await remote.get(info.key)
      try {
        entries = decodeIdx(data, `remote ${remote.name}: ${info.key}`, true)
      } catch (err) {
        if (!isMlvcError(err, 'CORRUPT')) throw err
        unreadable.push({ key: info.key, message: err.message })
        continue
      }
      await writeFileAtomic(local, data, { fsync: false })
    }
    const number = packs.push(name) - 1
    addPackEntries(table, number, entries)
  }
  // A remote that looks empty may be an encrypted one opened without its key: say so.
  if (packs.length === 0 && unreadable.length === 0) await refuseIfEncrypted(remote)
  return { packs, unreadable, table, lookup: (digest) => table.get(digest) }
}

/** Records an index this process uploaded, so the next load does not download it again. */
export async function cacheUploadedIndex(
  store: Store,
  remote: Remote,
  name: string,
  idx: Buffer,
): Promise<void> {
  const dir = remoteCacheDir(store, remote)
  await ensureDir(dir)
  await writeFileAtomic(join(dir, `${name}.idx`), idx, { fsync: false })
}
