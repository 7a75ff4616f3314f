import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { MlvcError } from '../core/index.ts'
import type { Remote } from '../remote/index.ts'
import { decodeIdx, findDamaged, formatId, type IdxEntry } from '../store/index.ts'

/** Stored bytes read and checked at once while verifying a pack (bounds the hub's memory). */
const WINDOW = 16 * 1024 * 1024

/** `packs/NAME.idx` → NAME; undefined for any other key. */
export function idxPackName(key: string): string | undefined {
  return /^packs\/([A-Za-z0-9._-]+)\.idx$/.exec(key)?.[1]
}

/** Runs of entries (by offset) spanning at most WINDOW bytes: one range read each. */
function windowsOf(entries: readonly IdxEntry[]): IdxEntry[][] {
  const out: IdxEntry[][] = []
  for (const entry of entries.toSorted((a, b) => a.offset - b.offset)) {
    const last = out.at(-1)
    const start = last?.[0]?.offset ?? 0
    if (last && entry.offset + entry.length - start <= WINDOW) last.push(entry)
    else out.push([entry])
  }
  return out
}

/**
 * Checks a pack the hub received against the index that names its objects: the index reads (its
 * checksum), the pack holds every listed record, and every object decodes to bytes whose sha256
 * is its id (on the store's verify workers). Throws CORRUPT naming the first bad object, so that
 * an upload whose objects do not match their ids is refused whole. Returns the ids it holds.
 * `localRoot`: the folder holding the remote's keys when they are on local disk.
 */
export async function checkPack(
  remote: Remote,
  name: string,
  idx: Buffer,
  localRoot?: string,
): Promise<string[]> {
  const where = `packs/${name}.idx`
  const entries = decodeIdx(idx, where, true)
  const packKey = `packs/${name}.pack`
  const pack = await remote.head(packKey)
  if (!pack) {
    throw new MlvcError('MISSING_OBJECT', `${where}: its pack ${packKey} has not been uploaded`, {
      hint: 'upload the pack before its index (mlvc push does)',
    })
  }
  const end = entries.reduce((max, e) => Math.max(max, e.offset + e.length), 0)
  if (pack.size < end) {
    throw new MlvcError(
      'CORRUPT',
      `${packKey} has ${pack.size} bytes; its index lists objects up to byte ${end}`,
    )
  }
  const refuse = (e: IdxEntry, why: string) =>
    new MlvcError(
      'CORRUPT',
      `${packKey}: object ${formatId(e.kind, e.digest)} at offset ${e.offset}: ${why}`,
      {
        hint: 'the upload was refused whole; push again from a store that mlvc fsck finds clean',
      },
    )
  if (localRoot !== undefined) {
    // On local disk the verify workers read the pack themselves: nothing is copied through this
    // thread (copying 64 MiB into fresh buffers cost more than hashing it).
    const file = await open(join(localRoot, packKey), 'r')
    try {
      const damaged = await findDamaged(entries.map((e) => ({ ...e, fd: file.fd })))
      for (const [i, why] of damaged) {
        const e = entries[i]
        if (e) throw refuse(e, why)
      }
    } finally {
      await file.close()
    }
    return entries.map((e) => formatId(e.kind, e.digest))
  }
  for (const group of windowsOf(entries)) {
    const first = group[0]
    const last = group.at(-1)
    if (!first || !last) continue
    const data = await remote.getRange(
      packKey,
      first.offset,
      last.offset + last.length - first.offset,
    )
    const damaged = await findDamaged(
      group.map((e) => ({ ...e, offset: e.offset - first.offset })),
      data,
    )
    for (const [i, why] of damaged) {
      const e = group[i]
      if (e) throw refuse(e, why)
    }
  }
  return entries.map((e) => formatId(e.kind, e.digest))
}

/**
 * The ids of the objects a repository's storage holds, from its pack indexes (cached per index:
 * indexes are immutable). Encrypted repositories' indexes have sealed names and are not read.
 */
export function objectIndex(): (remote: Remote) => Promise<Set<string>> {
  const cache = new Map<string, Map<string, string[]>>()
  return async (remote) => {
    const known = cache.get(remote.url) ?? new Map<string, string[]>()
    cache.set(remote.url, known)
    const seen = new Set<string>()
    for await (const info of remote.list('packs/')) {
      if (!idxPackName(info.key)) continue
      seen.add(info.key)
      if (known.has(info.key)) continue
      try {
        const entries = decodeIdx(await remote.get(info.key), info.key, true)
        known.set(
          info.key,
          entries.map((e) => formatId(e.kind, e.digest)),
        )
      } catch (err) {
        if (!(err instanceof MlvcError)) throw err
      }
    }
    for (const key of known.keys()) if (!seen.has(key)) known.delete(key)
    const ids = new Set<string>()
    for (const list of known.values()) for (const id of list) ids.add(id)
    return ids
  }
}
