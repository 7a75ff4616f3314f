import { readdir, readFile, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { acquireLock, fsError, isErrno } from '../core/index.ts'
import { formatId, hex } from './cid.ts'
import { closure } from './closure.ts'
import { decodeIdx, type IdxEntry } from './idx.ts'
import { idxFilePath, listPackFiles, packFilePath } from './layout.ts'
import { listPins } from './pins.ts'
import type { Store } from './store.ts'
import { storedMatches } from './stored.ts'

export interface GcOptions {
  /** Ids to keep besides the pins (what Git references, …). */
  roots?: Iterable<string>
  /** Nothing younger than this is removed. @default one hour */
  graceMs?: number
  /** Report what would be removed, remove nothing. @default false */
  dryRun?: boolean
}

export interface GcReport {
  live: number
  packsRemoved: number
  packsRewritten: number
  objectsRemoved: number
  bytesFreed: number
  /** Roots that name objects the store does not hold (their data cannot be kept). */
  missingRoots: string[]
}

export const GC_GRACE_MS = 60 * 60 * 1000

/** Digests (hex) of every object reachable from the roots; roots the store lacks go to `missing`. */
async function markLive(
  store: Store,
  roots: Iterable<string>,
  missing: string[],
): Promise<Set<string>> {
  const reach = await closure(store, roots)
  for (const ref of reach.missing) missing.push(ref.id)
  return new Set(reach.objects.keys())
}

async function ageMs(path: string): Promise<number> {
  try {
    return Date.now() - (await stat(path)).mtimeMs
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return Number.POSITIVE_INFINITY
    throw fsError(err, 'reading', path)
  }
}

async function remove(path: string): Promise<void> {
  try {
    await unlink(path)
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw fsError(err, 'removing', path)
  }
}

interface PackPlan {
  name: string
  entries: IdxEntry[]
  liveEntries: IdxEntry[]
}

/**
 * Removes objects nothing references. Packs younger than the grace period are never touched, and a
 * writer that reuses an object in an old pack freshens the pack's mtime first, so a command running
 * concurrently never loses an object it relies on. Partly live packs are rewritten with their live
 * objects (each verified) before the old pack goes.
 */
export async function gcStore(store: Store, options: GcOptions = {}): Promise<GcReport> {
  const grace = options.graceMs ?? GC_GRACE_MS
  const lock = await acquireLock(
    join(store.layout.locks, 'gc.lock'),
    `the store at ${store.layout.root}`,
  )
  try {
    await store.refresh()
    const report: GcReport = {
      live: 0,
      packsRemoved: 0,
      packsRewritten: 0,
      objectsRemoved: 0,
      bytesFreed: 0,
      missingRoots: [],
    }
    const roots = [...(options.roots ?? []), ...(await listPins(store))]
    const live = await markLive(store, roots, report.missingRoots)
    report.live = live.size
    const files = await listPackFiles(store.layout)
    const plans: PackPlan[] = []
    const kept = new Set<string>()
    for (const name of files.indexed) {
      const idxPath = idxFilePath(store.layout, name)
      const entries = decodeIdx(await readFile(idxPath), idxPath)
      const liveEntries = entries.filter((e) => live.has(hex(e.digest)))
      const young = (await ageMs(packFilePath(store.layout, name))) < grace
      if (young || liveEntries.length === entries.length) {
        for (const e of entries) kept.add(hex(e.digest))
      } else {
        plans.push({ name, entries, liveEntries })
      }
    }
    for (const plan of plans)
      await collectPack(store, plan, kept, report, options.dryRun === true, grace)
    for (const name of files.unindexed) {
      const path = packFilePath(store.layout, name)
      if ((await ageMs(path)) < grace) continue
      report.packsRemoved++
      if (!options.dryRun) await remove(path)
    }
    await removeOldTemps(store.layout.tmp, grace, options.dryRun === true)
    return report
  } finally {
    await lock.release()
  }
}

async function collectPack(
  store: Store,
  plan: PackPlan,
  kept: Set<string>,
  report: GcReport,
  dryRun: boolean,
  grace: number,
): Promise<void> {
  const packPath = packFilePath(store.layout, plan.name)
  // A concurrent writer may have reused one of its objects since the plan was made.
  if ((await ageMs(packPath)) < grace) return
  const number = store.packs.findIndex((p) => p.name === plan.name)
  const copy = plan.liveEntries.filter((e) => !kept.has(hex(e.digest)))
  for (const entry of copy) {
    // Copied as stored (encoded objects stay encoded), once they decode to their ids.
    const data = Buffer.allocUnsafe(entry.length)
    store.readPack(number, entry.offset, data)
    if (!storedMatches(data, entry, entry.digest)) {
      throw fsError(
        new Error(`object ${formatId(entry.kind, entry.digest)} is corrupt; run mlvc fsck`),
        'collecting',
        packPath,
      )
    }
    if (!dryRun) store.writer().append(entry.digest, entry.kind, [data], entry)
    kept.add(hex(entry.digest))
  }
  report.objectsRemoved += plan.entries.length - plan.liveEntries.length
  if (copy.length > 0) report.packsRewritten++
  else report.packsRemoved++
  report.bytesFreed += (await stat(packPath)).size
  if (dryRun) return
  await store.commit()
  await remove(idxFilePath(store.layout, plan.name))
  await remove(packPath)
}

async function removeOldTemps(dir: string, grace: number, dryRun: boolean): Promise<void> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return
    throw fsError(err, 'listing', dir)
  }
  for (const name of names) {
    const path = join(dir, name)
    if (!dryRun && (await ageMs(path)) >= grace) await remove(path)
  }
}
