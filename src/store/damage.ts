import { mkdirSync, writeFileSync } from 'node:fs'
import { readdir, readFile, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { acquireLock, fsError, isErrno, isMlvcError, writeFileAtomic } from '../core/index.ts'
import { hex, parseId } from './cid.ts'
import { checkEncodedSize } from './encoding.ts'
import { decodeIdx, encodeIdx, type IdxEntry } from './idx.ts'
import { idxFilePath, listPackFiles, packFilePath, type StoreLayout } from './layout.ts'
import {
  packVersion,
  parseRecordHeader,
  type RecordHeader,
  recordHeaderSize,
} from './pack-format.ts'
import type { Store } from './store.ts'
import { storedMatches } from './stored.ts'

/**
 * An object whose stored bytes failed verification when read: which copy (pack and offset of its
 * bytes). Recorded in `damaged/<id>` so that a later fetch, pull or `fsck --repair` in another
 * process fetches a good copy even though the object is present.
 */
export interface Damage {
  id: string
  pack: string
  offset: number
}

function damagedDir(layout: StoreLayout): string {
  return join(layout.root, 'damaged')
}

/**
 * Records a damaged copy. Best effort and synchronous (reads are): a store that cannot be written
 * (read-only, full) loses only the record, and the read that found the damage still fails.
 */
export function recordDamage(layout: StoreLayout, damage: Damage): void {
  try {
    const dir = damagedDir(layout)
    mkdirSync(dir, { recursive: true })
    writeFileSync(
      join(dir, damage.id),
      JSON.stringify({ pack: damage.pack, offset: damage.offset }),
    )
  } catch {
    // The error the caller throws says what is damaged; the record only saves a later fsck.
  }
}

/** Every recorded damaged object, by id. */
export async function listDamage(store: Store): Promise<Map<string, Damage>> {
  const dir = damagedDir(store.layout)
  const found = new Map<string, Damage>()
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return found
    throw fsError(err, 'listing', dir)
  }
  for (const id of names) {
    try {
      parseId(id)
      const where = JSON.parse(await readFile(join(dir, id), 'utf8')) as Partial<Damage>
      found.set(id, { id, pack: String(where.pack), offset: Number(where.offset) })
    } catch {
      // Not a record this mlvc wrote (or half-written): ignored, fsck finds the damage again.
    }
  }
  return found
}

/** True when the copy at this index entry reads back and matches its id. */
function isGoodCopy(store: Store, pack: number, entry: IdxEntry): boolean {
  const data = Buffer.allocUnsafe(entry.length)
  try {
    checkEncodedSize(entry.codec, entry.length, entry.size)
    store.readPack(pack, entry.offset, data)
  } catch {
    return false
  }
  return storedMatches(data, entry, entry.digest)
}

/**
 * After good copies of `ids` were stored (`store.replace`) and committed: removes every damaged
 * copy of them from the index of the pack that holds it, so that no process reads it again, and
 * forgets their damage records. Good objects of those packs stay where they are and stay indexed;
 * the damaged bytes become unreferenced and `mlvc gc` reclaims them. Packs this process is still
 * writing are left alone. Runs under the gc lock, so gc never rewrites a pack meanwhile.
 */
export async function retireDamaged(store: Store, ids: readonly string[]): Promise<number> {
  const wanted = new Set(ids.map((id) => hex(parseId(id).digest)))
  if (wanted.size === 0) return 0
  await store.refresh()
  const lock = await acquireLock(
    join(store.layout.locks, 'gc.lock'),
    `the store at ${store.layout.root}`,
    {
      waitMs: 60_000,
    },
  )
  let dropped = 0
  try {
    for (const name of (await listPackFiles(store.layout)).indexed) {
      const number = store.packs.findIndex((p) => p.name === name)
      if (number < 0 || store.packs[number]?.own) continue
      const path = idxFilePath(store.layout, name)
      let entries: IdxEntry[]
      try {
        entries = decodeIdx(await readFile(path), path, true)
      } catch (err) {
        if (!isMlvcError(err, 'CORRUPT')) throw err
        // The index itself is damaged: the pack's records say what it holds, each verified.
        dropped += (await rebuildIndex(store.layout, name)).dropped
        continue
      }
      const keep = entries.filter((entry) => {
        return !wanted.has(hex(entry.digest)) || isGoodCopy(store, number, entry)
      })
      if (keep.length === entries.length) continue
      dropped += entries.length - keep.length
      await writeFileAtomic(path, encodeIdx(keep))
    }
  } finally {
    await lock.release()
  }
  for (const id of ids) {
    try {
      await unlink(join(damagedDir(store.layout), id))
    } catch (err) {
      if (!isErrno(err, 'ENOENT'))
        throw fsError(err, 'removing', join(damagedDir(store.layout), id))
    }
  }
  return dropped
}

/**
 * Rewrites a pack's index from the pack itself: records are self-describing (digest, kind,
 * encoding, lengths), so every object whose bytes still decode to its id is indexed again and a
 * damaged one is left out. The scan stops at a record whose header cannot be read (a cut or
 * garbled pack); what lies beyond is not indexed. Returns how many objects were kept and how many
 * records were dropped.
 */
async function rebuildIndex(
  layout: StoreLayout,
  name: string,
): Promise<{ kept: number; dropped: number }> {
  const data = await readFile(packFilePath(layout, name))
  const entries: IdxEntry[] = []
  let dropped = 0
  const version = packVersion(data)
  const headerSize = version === undefined ? 0 : recordHeaderSize(version)
  let pos = version === undefined ? data.length : 8
  while (version !== undefined && pos + headerSize <= data.length) {
    let record: RecordHeader
    try {
      record = parseRecordHeader(data, pos, version, name)
    } catch {
      break
    }
    const offset = pos + headerSize
    if (offset + record.length > data.length) break
    const stored = data.subarray(offset, offset + record.length)
    if (storedMatches(stored, record, record.digest))
      entries.push({ ...record, digest: Buffer.from(record.digest), offset })
    else dropped++
    pos = offset + record.length
  }
  if (pos < data.length) dropped++
  await writeFileAtomic(idxFilePath(layout, name), encodeIdx(entries))
  return { kept: entries.length, dropped }
}

/** The gc lock: nothing rewrites a pack or its index meanwhile. */
function lockStore(store: Store) {
  return acquireLock(join(store.layout.locks, 'gc.lock'), `the store at ${store.layout.root}`, {
    waitMs: 60_000,
  })
}

/**
 * Rebuilds the indexes of these packs from their records (see rebuildIndex) and loads them;
 * returns how many objects are indexed again.
 */
export async function rebuildIndexes(store: Store, packs: readonly string[]): Promise<number> {
  if (packs.length === 0) return 0
  const lock = await lockStore(store)
  let kept = 0
  try {
    for (const name of packs) kept += (await rebuildIndex(store.layout, name)).kept
  } finally {
    await lock.release()
  }
  await store.refresh()
  return kept
}
