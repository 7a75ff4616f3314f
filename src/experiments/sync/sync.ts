import { MlvcError, mapConcurrent } from '../../core/index.ts'
import { type End, end, mergeHistory, record } from './history.ts'
import type {
  Decision,
  ExpSide,
  IndexEntry,
  SideName,
  SyncChange,
  SyncOptions,
  SyncReport,
} from './index.ts'
import { allowed, decide, type PlanInput, planInput, preferred } from './plan.ts'
import { syncRepoFiles } from './repofiles.ts'
import { newRecord } from './state.ts'

/** Experiments copied at once: enough to overlap a remote's latency, few enough for two cores. */
const CONCURRENCY = 4

async function copy(id: string, from: End, to: End): Promise<SyncChange> {
  const source = from.state.index.get(id) as IndexEntry
  const old = to.state.index.get(id)
  const version = await from.side.version(source)
  const written = await to.side.putExperiment(
    version,
    (name) => (path) => from.side.fetchFile(version, name, path),
    old,
  )
  const entry = { id, hash: written.hash, path: written.path }
  to.state.index.set(id, entry)
  if (written.hash !== source.hash) {
    // The source changed while being copied (a logger still writing): both ends record what was
    // actually copied, so the source's next version is seen as newer than it.
    record(from, newRecord('version', entry))
  }
  record(to, newRecord('version', entry))
  return { id, path: entry.path, action: old ? 'replace' : 'copy', on: to.side.label }
}

async function remove(id: string, on: End): Promise<SyncChange> {
  const entry = on.state.index.get(id) as IndexEntry
  await on.side.deleteExperiment(entry)
  on.state.index.delete(id)
  record(on, newRecord('delete', entry))
  return { id, path: entry.path, action: 'delete', on: on.side.label }
}

/** The end a decision would change, if any. */
function target(decision: Decision): SideName | undefined {
  if (decision.kind === 'copy') return decision.from === 'a' ? 'b' : 'a'
  if (decision.kind === 'delete') return decision.on
  return undefined
}

async function apply(
  id: string,
  decision: Decision,
  ends: { a: End; b: End },
  report: SyncReport,
  options: { dryRun: boolean; direction: SyncOptions['direction'] },
): Promise<void> {
  const { a, b } = ends
  const changes = target(decision)
  const dryRun = options.dryRun || (changes !== undefined && !allowed(changes, options.direction))
  const out = dryRun && !options.dryRun ? report.pending : report.changes
  switch (decision.kind) {
    case 'same':
      if (!options.dryRun) mergeHistory(id, a, b)
      return
    case 'skip':
      report.skipped.push({ id, reason: decision.reason })
      return
    case 'conflict':
      report.conflicts.push({
        id,
        reason: decision.reason,
        a: a.state.index.get(id),
        b: b.state.index.get(id),
      })
      return
    case 'copy': {
      const [from, to] = decision.from === 'a' ? [a, b] : [b, a]
      if (dryRun) {
        const path = from.state.index.get(id)?.path ?? ''
        out.push({ id, path, action: decision.replace ? 'replace' : 'copy', on: to.side.label })
        return
      }
      report.changes.push(await copy(id, from, to))
      mergeHistory(id, a, b)
      return
    }
    case 'delete': {
      const on = decision.on === 'a' ? a : b
      if (dryRun) {
        out.push({
          id,
          path: on.state.index.get(id)?.path ?? '',
          action: 'delete',
          on: on.side.label,
        })
        return
      }
      report.changes.push(await remove(id, on))
      mergeHistory(id, a, b)
      return
    }
  }
}

/**
 * Two-way sync of experiment repositories, decided by their histories: new experiments are copied,
 * newer versions replace older ones, deletions propagate; a conflict is reported and both versions
 * stay as they are. Each experiment is written whole (staged, then renamed into place), so an
 * interrupted sync is resumed by running it again.
 */
export async function syncSides(
  a: ExpSide,
  b: ExpSide,
  options: SyncOptions = {},
): Promise<SyncReport> {
  const dryRun = options.dryRun === true
  const stateA = await a.load({ dryRun })
  const stateB = await b.load({ dryRun })
  const ends = { a: end('a', a, stateA), b: end('b', b, stateB) }
  const report: SyncReport = {
    a: a.label,
    b: b.label,
    dryRun,
    changes: [],
    conflicts: [],
    skipped: [],
    pending: [],
    errors: [],
    repofiles: { copied: 0, bytes: 0, leftBehind: 0, unavailable: [] },
    problems: [...stateA.problems, ...stateB.problems],
  }
  const input: PlanInput = planInput(stateA, stateB)
  const ids = [
    ...new Set([
      ...input.knownA.keys(),
      ...input.knownB.keys(),
      ...stateA.index.keys(),
      ...stateB.index.keys(),
      ...stateA.broken.keys(),
      ...stateB.broken.keys(),
    ]),
  ].sort()
  let done = 0
  try {
    await mapConcurrent(ids, CONCURRENCY, async (id) => {
      if (options.signal?.aborted) return
      let decision = decide(id, input)
      if (decision.kind === 'conflict' && options.prefer)
        decision = preferred(id, input, options.prefer)
      try {
        await apply(id, decision, ends, report, { dryRun, direction: options.direction })
      } catch (err) {
        report.errors.push({ id, message: (err as Error).message })
      }
      options.onProgress?.({
        type: 'objects',
        phase: 'syncing experiments',
        done: ++done,
        total: ids.length,
      })
    })
    if (!options.signal?.aborted) await syncRepoFiles(ends, report, options)
  } finally {
    if (!dryRun) {
      await a.save(stateA.index, ends.a.added)
      await b.save(stateB.index, ends.b.added)
    }
  }
  const byPath = (x: { path: string; id: string }, y: { path: string; id: string }) =>
    x.path < y.path ? -1 : x.path > y.path ? 1 : x.id < y.id ? -1 : 1
  report.changes.sort(byPath)
  report.pending.sort(byPath)
  report.conflicts.sort((x, y) => (x.id < y.id ? -1 : 1))
  report.skipped.sort((x, y) => (x.id < y.id ? -1 : 1))
  if (options.signal?.aborted) {
    throw new MlvcError(
      'INTERRUPTED',
      `sync of ${a.label} and ${b.label} interrupted; run it again to finish`,
    )
  }
  return report
}

/** syncSides, then closes both sides (releasing their locks) whatever happens. */
export async function syncAndClose(
  a: ExpSide,
  b: ExpSide,
  options: SyncOptions = {},
): Promise<SyncReport> {
  try {
    return await syncSides(a, b, options)
  } finally {
    await a.close()
    await b.close()
  }
}
