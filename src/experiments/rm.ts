import { join } from 'node:path'
import { acquireLock } from '../core/index.ts'
import { removeExperimentDir } from './remove-dir.ts'
import { DBX, type ExpRepo } from './repo.ts'
import { pickExperiment } from './scan.ts'
import {
  type HistoryRecord,
  type IndexEntry,
  newRecord,
  refreshLocalState,
  saveLocalState,
} from './sync/index.ts'

/**
 * Deletes experiments (by id or unique id prefix) and records each deletion, with its last version,
 * in history, so that sync deletes them elsewhere too. RepoFiles stay until `gc`.
 */
export async function removeExperiments(
  repo: ExpRepo,
  ids: readonly string[],
): Promise<IndexEntry[]> {
  const lock = await acquireLock(join(repo.dbx, DBX.syncLock), `experiment repository ${repo.root}`)
  try {
    const state = await refreshLocalState(repo)
    const targets = ids.map((id) => pickExperiment([...state.experiments.values()], id))
    const records: HistoryRecord[] = []
    const removed: IndexEntry[] = []
    for (const exp of new Set(targets)) {
      const entry = state.index.get(exp.id) as IndexEntry
      await removeExperimentDir(repo, entry)
      state.index.delete(exp.id)
      records.push(newRecord('delete', entry))
      removed.push(entry)
    }
    await saveLocalState(repo, state.index, records)
    return removed
  } finally {
    await lock.release()
  }
}
