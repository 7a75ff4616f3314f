import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { MlvcError, type ProgressOptions, uniqueName } from '../core/index.ts'
import {
  createPackFile,
  decodeIdx,
  decodeManifest,
  decodeStored,
  findDamaged,
  formatId,
  hex,
  type IdxEntry,
  manifestReferences,
  parseId,
  type Store,
} from '../store/index.ts'
import { listRemotePacks, windows } from './fsck.ts'
import { lockForGc } from './lock.ts'
import type { Remote } from './remote.ts'
import { remoteIdxKey, remotePackKey } from './remote-index.ts'

export interface RemoteGcOptions extends ProgressOptions {
  /** Files (manifest ids) to keep with everything they need: the Git remote's refs and more. */
  roots: Iterable<string>
  /** Report what would be removed; remove nothing. */
  dryRun?: boolean
  /** Nothing written in this period is removed or repacked. @default 1 h */
  graceMs?: number
  /** A pack whose unreferenced bytes exceed this fraction is repacked. @default 0.5 */
  repackThreshold?: number
}

export interface RemoteGcReport {
  remote: string
  dryRun: boolean
  packs: number
  liveObjects: number
  liveBytes: number
  /** Packs removed whole (nothing in them referenced), with their bytes. */
  removedPacks: string[]
  /** Packs rewritten without their garbage. */
  repackedPacks: string[]
  /** Packs without an index left by interrupted pushes, removed. */
  removedLeftovers: string[]
  /** Bytes freed (or that would be). */
  freedBytes: number
  /** Unfinished multipart uploads aborted (S3). */
  abortedUploads: number
}

interface PackInfo {
  name: string
  entries: IdxEntry[]
  bytes: number
  young: boolean
}

/**
 * Removes from a remote what none of `roots` needs: packs with nothing referenced are deleted,
 * packs that are mostly garbage are rewritten with their live objects only, packs left without an
 * index by interrupted pushes are deleted, and (S3) unfinished multipart uploads are aborted —
 * never anything written in the last `graceMs`. It takes the remote's exclusive gc lock, so it
 * refuses to run while a push runs, and a push waits for it (lock.ts). The manifests that decide
 * what is live are read from this store when it has them, else from the remote (verified).
 */
export async function gcRemote(
  store: Store,
  remote: Remote,
  options: RemoteGcOptions,
): Promise<RemoteGcReport> {
  const grace = options.graceMs ?? 3600_000
  const now = Date.now()
  const report: RemoteGcReport = {
    remote: remote.name,
    dryRun: options.dryRun === true,
    packs: 0,
    liveObjects: 0,
    liveBytes: 0,
    removedPacks: [],
    repackedPacks: [],
    removedLeftovers: [],
    freedBytes: 0,
    abortedUploads: 0,
  }
  const lock = options.dryRun ? undefined : await lockForGc(remote)
  try {
    const listed = await listRemotePacks(remote, options)
    const packs: PackInfo[] = []
    const where = new Map<string, { pack: PackInfo; entry: IdxEntry }>()
    for (const [name, { pack, idx }] of listed) {
      const young = [pack, idx].some((o) => o?.modified && now - o.modified.getTime() < grace)
      if (!idx) {
        if (pack && !young) {
          report.removedLeftovers.push(name)
          report.freedBytes += pack.size
          if (!options.dryRun) await remote.delete(remotePackKey(name))
        }
        continue
      }
      const entries = decodeIdx(
        await remote.get(remoteIdxKey(name)),
        `remote ${remote.name}: ${remoteIdxKey(name)}`,
        true,
      )
      const info = { name, entries, bytes: entries.reduce((s, e) => s + e.length, 0), young }
      packs.push(info)
      for (const entry of entries) where.set(hex(entry.digest), { pack: info, entry })
    }
    report.packs = packs.length

    // Live objects: the closure of the roots, reading manifests locally or from the remote.
    const live = new Set<string>()
    const stack = [...new Set(options.roots)]
    for (let id = stack.pop(); id !== undefined; id = stack.pop()) {
      const { kind, digest } = parseId(id)
      const key = hex(digest)
      if (live.has(key)) continue
      live.add(key)
      if (kind !== 'manifest') continue
      let data: Buffer | undefined
      if (store.lookup(digest)) data = await store.readObject(id)
      else {
        const at = where.get(key)
        if (!at) continue
        const stored = await remote.getRange(
          remotePackKey(at.pack.name),
          at.entry.offset,
          at.entry.length,
        )
        data = decodeStored(stored, at.entry, digest)
        if (!data) {
          throw new MlvcError(
            'REMOTE',
            `remote ${remote.name}: manifest ${id} is corrupt; gc stopped before removing anything`,
            {
              hint: `run mlvc fsck --remote ${remote.name}`,
            },
          )
        }
      }
      for (const ref of manifestReferences(decodeManifest(data, id))) stack.push(ref)
    }

    for (const pack of packs) {
      const kept = pack.entries.filter((e) => live.has(hex(e.digest)))
      const keptBytes = kept.reduce((s, e) => s + e.length, 0)
      report.liveObjects += kept.length
      report.liveBytes += keptBytes
      if (pack.young || kept.length === pack.entries.length) continue
      const dead = pack.bytes - keptBytes
      if (kept.length === 0) {
        report.removedPacks.push(pack.name)
        report.freedBytes += pack.bytes
        if (!options.dryRun) await removePack(remote, pack.name)
      } else if (dead > (options.repackThreshold ?? 0.5) * pack.bytes) {
        report.repackedPacks.push(pack.name)
        report.freedBytes += dead
        if (!options.dryRun) await repack(store, remote, pack.name, kept, options)
      }
    }
    if (remote.abandonedUploads) {
      report.abortedUploads = await remote.abandonedUploads(new Date(now - grace), {
        dryRun: options.dryRun === true,
      })
    }
    return report
  } finally {
    await lock?.release()
  }
}

/** The index goes first: a reader never finds an index whose pack is gone. */
async function removePack(remote: Remote, name: string): Promise<void> {
  await remote.delete(remoteIdxKey(name))
  await remote.delete(remotePackKey(name))
}

/** Copies the live objects of a pack into a new one (verified), publishes it, removes the old. */
async function repack(
  store: Store,
  remote: Remote,
  name: string,
  kept: IdxEntry[],
  options: ProgressOptions,
): Promise<void> {
  const fresh = uniqueName('pack')
  const path = join(store.layout.tmp, `${fresh}.pack`)
  const builder = createPackFile(path)
  try {
    for (const group of windows(kept)) {
      const first = group[0]
      const last = group.at(-1)
      if (!first || !last) continue
      const span = await remote.getRange(
        remotePackKey(name),
        first.offset,
        last.offset + last.length - first.offset,
        { signal: options.signal },
      )
      const inSpan = group.map((e) => ({ ...e, offset: e.offset - first.offset }))
      const bad = [...(await findDamaged(inSpan, span)).keys()][0]
      const damaged = bad === undefined ? undefined : group[bad]
      if (damaged) {
        throw new MlvcError(
          'REMOTE',
          `remote ${remote.name}: ${formatId(damaged.kind, damaged.digest)} in ${remotePackKey(name)} is corrupt; that pack was left as it is`,
          { hint: `run mlvc fsck --remote ${remote.name}` },
        )
      }
      // Copied as stored: encoded objects stay encoded.
      for (const entry of group) {
        const from = entry.offset - first.offset
        builder.append(entry.digest, entry.kind, span.subarray(from, from + entry.length), entry)
      }
    }
    const idx = builder.finish()
    await remote.upload(path, remotePackKey(fresh), { signal: options.signal })
    await remote.create(remoteIdxKey(fresh), idx, { signal: options.signal })
    await removePack(remote, name)
  } finally {
    await rm(path, { force: true })
  }
}
