import { open, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import {
  fsError,
  isErrno,
  mapConcurrent,
  pushAll,
  readTextIfExists,
  writeFileAtomic,
} from '../../core/index.ts'
import { loadHashCache } from '../hash-cache.ts'
import { DBX, type ExpRepo } from '../repo.ts'
import { type Experiment, loadExperiments, type Problem } from '../scan.ts'
import { type ExpVersion, readVersion } from '../version.ts'
import type { HistoryRecord, IndexEntry } from './index.ts'
import {
  corruptState,
  formatHistory,
  formatIndex,
  indexFromHistory,
  newRecord,
  parseHistory,
  parseIndex,
} from './state.ts'

/** A repository's state after comparing its folders with its index. */
export interface LocalState {
  /** Current versions of the experiments that could be read. */
  versions: Map<string, ExpVersion>
  experiments: Map<string, Experiment>
  /** The index as it now stands (written unless dryRun). */
  index: Map<string, IndexEntry>
  history: HistoryRecord[]
  /** Records this refresh added. */
  added: HistoryRecord[]
  /** Ids that could not be read: left alone by sync, never recorded as deleted. */
  broken: Map<string, string>
  problems: Problem[]
}

export async function readHistory(
  repo: ExpRepo,
): Promise<{ records: HistoryRecord[]; problems: Problem[] }> {
  const path = join(repo.dbx, DBX.history)
  let text = ''
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw fsError(err, 'reading', path)
  }
  const parsed = parseHistory(text, path)
  return { records: parsed.entries, problems: parsed.problems }
}

async function readOldIndex(
  repo: ExpRepo,
  history: HistoryRecord[],
): Promise<Map<string, IndexEntry>> {
  const path = join(repo.dbx, DBX.index)
  const text = await readTextIfExists(path)
  if (text === undefined) return indexFromHistory(history)
  const parsed = parseIndex(text, path)
  if (parsed.problems.length > 0) throw corruptState(path, parsed.problems)
  return new Map(parsed.entries.map((e) => [e.id, e]))
}

/** Ids of old index entries whose folder now fails to load: they must not look deleted. */
function brokenByPath(
  old: Map<string, IndexEntry>,
  problems: Problem[],
  root: string,
): Map<string, string> {
  const out = new Map<string, string>()
  for (const entry of old.values()) {
    const metaPath = join(root, entry.path, 'meta.json')
    const hit = problems.find((p) => p.path === metaPath)
    if (hit) out.set(entry.id, hit.message)
  }
  return out
}

/**
 * Scans the repository, hashes every experiment (reusing hashes of unchanged files) and records in
 * history what changed since the index was written: new versions and deletions. Experiments that
 * cannot be read (bad meta.json, a link leaving the repository, an id used twice) keep their old
 * index entry and are listed in `broken`.
 */
export async function refreshLocalState(
  repo: ExpRepo,
  options: { dryRun?: boolean } = {},
): Promise<LocalState> {
  const { records: history, problems } = await readHistory(repo)
  const old = await readOldIndex(repo, history)
  const loaded = await loadExperiments(repo)
  pushAll(problems, loaded.problems)
  const broken = brokenByPath(old, loaded.problems, repo.root)
  const counts = new Map<string, number>()
  for (const exp of loaded.experiments) counts.set(exp.id, (counts.get(exp.id) ?? 0) + 1)
  const cache = await loadHashCache(repo)
  const versions = new Map<string, ExpVersion>()
  const experiments = new Map<string, Experiment>()
  await mapConcurrent(loaded.experiments, 16, async (exp) => {
    if ((counts.get(exp.id) ?? 0) > 1) {
      broken.set(exp.id, `id ${exp.id} is used by more than one experiment`)
      return
    }
    try {
      versions.set(exp.id, await readVersion(repo, exp, cache))
      experiments.set(exp.id, exp)
    } catch (err) {
      broken.set(exp.id, (err as Error).message)
      problems.push({ path: exp.dir, message: (err as Error).message })
    }
  })
  const now = new Date()
  const added: HistoryRecord[] = []
  const index = new Map<string, IndexEntry>()
  for (const [id, entry] of old) if (broken.has(id)) index.set(id, entry)
  for (const v of versions.values()) {
    const entry = { id: v.id, hash: v.hash, path: v.path }
    index.set(v.id, entry)
    const before = old.get(v.id)
    if (!before || before.hash !== v.hash) added.push(newRecord('version', entry, now))
  }
  for (const [id, entry] of old) {
    if (!index.has(id)) added.push(newRecord('delete', entry, now))
  }
  if (!options.dryRun) {
    await saveLocalState(repo, index, added)
    await cache.save()
  }
  return { versions, experiments, index, history: [...history, ...added], added, broken, problems }
}

/** Appends whole lines, first ending a cut-off last line so the new ones stay whole. */
export async function appendLines(path: string, text: string): Promise<void> {
  try {
    let prefix = ''
    const handle = await open(path, 'a+')
    try {
      const { size } = await handle.stat()
      if (size > 0) {
        const last = Buffer.alloc(1)
        await handle.read(last, 0, 1, size - 1)
        if (last[0] !== 0x0a) prefix = '\n'
      }
      await handle.appendFile(prefix + text)
    } finally {
      await handle.close()
    }
  } catch (err) {
    throw fsError(err, 'appending to', path)
  }
}

/** Writes the index and appends `records` to history (one write). */
export async function saveLocalState(
  repo: ExpRepo,
  index: Map<string, IndexEntry>,
  records: readonly HistoryRecord[],
): Promise<void> {
  const historyPath = join(repo.dbx, DBX.history)
  if (records.length > 0) await appendLines(historyPath, formatHistory(records))
  const indexPath = join(repo.dbx, DBX.index)
  await writeFileAtomic(indexPath, formatIndex(index.values()), { tmpDir: dirname(indexPath) })
}
