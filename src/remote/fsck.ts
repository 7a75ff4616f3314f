import { isMlvcError, MlvcError, mapConcurrent, type ProgressOptions } from '../core/index.ts'
import {
  closure,
  decodeIdx,
  findDamaged,
  formatId,
  type IdxEntry,
  type Store,
} from '../store/index.ts'
import type { Remote, RemoteObjectInfo } from './remote.ts'
import { PACKS_PREFIX, remoteIdxKey, remotePackKey } from './remote-index.ts'

export type RemoteIssueKind =
  | 'bad-index'
  | 'missing-pack'
  | 'truncated-pack'
  | 'corrupt'
  | 'unindexed-pack'
  | 'missing'

export interface RemoteIssue {
  kind: RemoteIssueKind
  severity: 'error' | 'warning'
  /** The remote key concerned (a pack or index), when there is one. */
  key?: string
  /** The object concerned, when there is one. */
  id?: string
  message: string
}

export interface RemoteFsckReport {
  remote: string
  packs: number
  objects: number
  /** Bytes of the objects the indexes list. */
  bytes: number
  /** Bytes read back and verified (0 with `quick`). */
  verifiedBytes: number
  issues: RemoteIssue[]
}

export interface RemoteFsckOptions extends ProgressOptions {
  /** Check the indexes and pack sizes only, not every object's bytes. */
  quick?: boolean
  /** Files (manifest ids) that must be on the remote with everything they need (the local refs'). */
  roots?: Iterable<string>
  /** Packs without an index younger than this are a push in progress, not a problem. @default 1 h */
  graceMs?: number
  /** Range requests in flight while verifying. @default 4 */
  concurrency?: number
}

/** The packs under packs/ on a remote: each name with its pack and index objects. */
export async function listRemotePacks(
  remote: Remote,
  options: ProgressOptions = {},
): Promise<Map<string, { pack?: RemoteObjectInfo; idx?: RemoteObjectInfo }>> {
  const packs = new Map<string, { pack?: RemoteObjectInfo; idx?: RemoteObjectInfo }>()
  for await (const info of remote.list(PACKS_PREFIX, { signal: options.signal })) {
    const match = /^packs\/(.+)\.(pack|idx)$/.exec(info.key)
    if (!match) continue
    const [, name = '', ext] = match
    const entry = packs.get(name) ?? {}
    if (ext === 'pack') entry.pack = info
    else entry.idx = info
    packs.set(name, entry)
  }
  return packs
}

/** Windows of entries (sorted by offset) spanning at most 16 MiB each: one range request each. */
export function windows(entries: IdxEntry[]): IdxEntry[][] {
  const sorted = entries.toSorted((a, b) => a.offset - b.offset)
  const out: IdxEntry[][] = []
  for (const entry of sorted) {
    const last = out.at(-1)
    const start = last?.[0]?.offset ?? 0
    if (last && entry.offset + entry.length - start <= 16 * 1024 * 1024) last.push(entry)
    else out.push([entry])
  }
  return out
}

/**
 * Checks a remote as a clone would rely on it: every pack index reads (checksum), every indexed pack
 * exists and is long enough, and (unless `quick`) every object's bytes match its id; then that the
 * given files, and everything they need, are there. The indexes are read from the remote itself,
 * not from this store's cache of them.
 */
export async function fsckRemote(
  store: Store,
  remote: Remote,
  options: RemoteFsckOptions = {},
): Promise<RemoteFsckReport> {
  const report: RemoteFsckReport = {
    remote: remote.name,
    packs: 0,
    objects: 0,
    bytes: 0,
    verifiedBytes: 0,
    issues: [],
  }
  const issue = (i: Omit<RemoteIssue, 'severity'> & { severity?: RemoteIssue['severity'] }) =>
    report.issues.push({ severity: 'error', ...i })
  const grace = options.graceMs ?? 3600_000
  const present = new Set<string>()
  const packs = await listRemotePacks(remote, options)
  let total = 0
  const toVerify: Array<{ name: string; entries: IdxEntry[] }> = []
  for (const [name, { pack, idx }] of packs) {
    if (!idx) {
      const young = pack?.modified && Date.now() - pack.modified.getTime() < grace
      if (!young) {
        issue({
          kind: 'unindexed-pack',
          severity: 'warning',
          key: remotePackKey(name),
          message: `${remotePackKey(name)} has no index: left by an interrupted push (mlvc gc --remote ${remote.name} removes it)`,
        })
      }
      continue
    }
    let entries: IdxEntry[]
    try {
      entries = decodeIdx(
        await remote.get(remoteIdxKey(name), { signal: options.signal }),
        `remote ${remote.name}: ${remoteIdxKey(name)}`,
        true,
      )
    } catch (err) {
      if (!isMlvcError(err, 'CORRUPT')) throw err
      issue({ kind: 'bad-index', key: remoteIdxKey(name), message: err.message })
      continue
    }
    report.packs++
    const end = entries.reduce((max, e) => Math.max(max, e.offset + e.length), 0)
    if (!pack) {
      issue({
        kind: 'missing-pack',
        key: remotePackKey(name),
        message: `${remotePackKey(name)} is missing but its index lists ${entries.length} objects`,
      })
      continue
    }
    if (pack.size < end) {
      issue({
        kind: 'truncated-pack',
        key: remotePackKey(name),
        message: `${remotePackKey(name)} has ${pack.size} bytes; its index lists objects up to byte ${end}`,
      })
      continue
    }
    for (const e of entries) {
      present.add(formatId(e.kind, e.digest))
      report.objects++
      report.bytes += e.length
    }
    total += entries.reduce((sum, e) => sum + e.length, 0)
    toVerify.push({ name, entries })
  }
  if (!options.quick) {
    for (const { name, entries } of toVerify) {
      const key = remotePackKey(name)
      await mapConcurrent(windows(entries), options.concurrency ?? 4, async (group) => {
        const first = group[0]
        const last = group.at(-1)
        if (!first || !last) return
        const data = await remote.getRange(
          key,
          first.offset,
          last.offset + last.length - first.offset,
          {
            signal: options.signal,
          },
        )
        const inRange = group.map((e) => ({ ...e, offset: e.offset - first.offset }))
        const damaged = await findDamaged(inRange, data)
        for (const [i, e] of group.entries()) {
          const id = formatId(e.kind, e.digest)
          const why = damaged.get(i)
          if (why !== undefined) {
            present.delete(id)
            issue({
              kind: 'corrupt',
              key,
              id,
              message: `${id} at offset ${e.offset} of ${key}: ${why}`,
            })
          }
          report.verifiedBytes += e.length
        }
        options.onProgress?.({ type: 'verify', done: report.verifiedBytes, total })
      })
    }
  }
  const roots = [...new Set(options.roots ?? [])]
  if (roots.length > 0) {
    // What the files need, as far as this store knows their manifests; the rest at least by id.
    const { objects } = await closure(store, roots)
    const needed = new Set([...objects.values()].map((ref) => ref.id))
    for (const id of needed) {
      if (!present.has(id)) {
        issue({
          kind: 'missing',
          id,
          message: `${id} is needed by the local refs but not on the remote`,
        })
      }
    }
  }
  if (options.signal?.aborted)
    throw new MlvcError('INTERRUPTED', `fsck of remote ${remote.name} interrupted`)
  return report
}
