import { mkdir, rename, rm, rmdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { acquireLock, fsError, MlvcError, uniqueName } from '../core/index.ts'
import { refreshLocalState, saveLocalState } from './local-state.ts'
import { readMeta } from './meta.ts'
import { joinInside } from './paths.ts'
import { DBX, type ExpRepo } from './repo.ts'
import { pickExperiment } from './scan.ts'
import { type HistoryRecord, type IndexEntry, newRecord } from './state.ts'

/** Removes now-empty folders from `dir` up to (not including) `root`. */
async function pruneEmpty(root: string, dir: string): Promise<void> {
  for (let d = dir; d !== root && d.startsWith(root); d = dirname(d)) {
    try {
      await rmdir(d)
    } catch {
      return
    }
  }
}

/** Moves a folder aside into .dbx/tmp, then deletes it: readers never see half a folder. */
async function removeDir(repo: ExpRepo, dir: string): Promise<void> {
  const aside = join(repo.dbx, DBX.tmp, uniqueName('removed'))
  await mkdir(dirname(aside), { recursive: true })
  try {
    await rename(dir, aside)
  } catch (err) {
    throw fsError(err, 'removing', dir)
  }
  await rm(aside, { recursive: true, force: true })
  await pruneEmpty(repo.root, dirname(dir))
}

/** Deletes an experiment folder after checking that it holds the experiment named. */
export async function removeExperimentDir(repo: ExpRepo, entry: IndexEntry): Promise<void> {
  const dir = joinInside(repo.root, entry.path, `experiment ${entry.id}`)
  const meta = await readMeta(dir)
  if (meta.id !== entry.id) {
    throw new MlvcError(
      'CORRUPT',
      `${dir} holds experiment ${meta.id}, not ${entry.id}; left alone`,
    )
  }
  await removeDir(repo, dir)
}

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
