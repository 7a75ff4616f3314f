import type { ProgressOptions } from '../core/index.ts'
import { closure, listDamage, parseId, retireDamaged, type Store } from '../store/index.ts'
import { type FetchReport, fetchRanges } from './ranges.ts'
import type { Remote } from './remote.ts'
import { loadRemoteIndex } from './remote-index.ts'

export type { FetchReport } from './ranges.ts'

export interface TransferOptions extends ProgressOptions {
  /** Requests in flight. @default 4 */
  concurrency?: number
}

export interface FetchOptions extends TransferOptions {
  /**
   * Ids known to be damaged locally (an fsck found them), fetched again when the files need them,
   * besides those recorded in the store when a read failed verification.
   */
  damaged?: Iterable<string>
}

/**
 * Downloads what the given files (manifest ids) need and the local store lacks: first the missing
 * manifests, then the chunks they reference, in range requests that cover neighbouring objects of a
 * remote pack. Every object is verified against its id before it is stored. What was fetched is
 * committed even when a later request fails, so running it again fetches only the rest.
 *
 * Objects the files need whose local copy is damaged (found when a read failed verification, or by
 * fsck) are fetched again too, and the damaged copies leave their packs' indexes.
 */
export async function fetchObjects(
  store: Store,
  remote: Remote,
  roots: Iterable<string>,
  options: FetchOptions = {},
): Promise<FetchReport> {
  const index = await loadRemoteIndex(store, remote)
  const report: FetchReport = {
    objects: 0,
    fetchedObjects: 0,
    fetchedBytes: 0,
    requests: 0,
    missing: [],
    repaired: [],
    unreadable: index.unreadable.map((u) => u.message),
  }
  const rootList = [...new Set(roots)]
  const recorded = new Set([...(await listDamage(store)).keys(), ...(options.damaged ?? [])])
  const absent = new Set<string>()
  const requested = new Set<string>()
  try {
    // Manifests name what else is needed, so they come first, a level per round (file, then the
    // parts and deltas it uses, then a delta's base…); then every chunk at once.
    for (;;) {
      const { objects, missing, damaged } = await closure(store, rootList, { tolerateDamage: true })
      report.objects = objects.size
      const known = [...objects.values()].filter((ref) => recorded.has(ref.id))
      const wanted = [
        ...new Map([...missing, ...damaged, ...known].map((r) => [r.id, r])).values(),
      ].filter((ref) => !requested.has(ref.id))
      const manifests = wanted.filter((ref) => parseId(ref.id).kind === 'manifest')
      const round = manifests.length > 0 ? manifests : wanted
      for (const ref of round) requested.add(ref.id)
      const located = round.flatMap((ref) => {
        const location = index.lookup(ref.digest)
        if (!location) absent.add(ref.id)
        return location ? [{ ...ref, location }] : []
      })
      await fetchRanges({ store, remote, index, report }, located, options)
      if (manifests.length === 0) break
    }
  } finally {
    await store.commit()
  }
  if (report.repaired.length > 0) await retireDamaged(store, report.repaired)
  report.missing = [...absent]
  return report
}
