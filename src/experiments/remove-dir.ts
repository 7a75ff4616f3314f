import { mkdir, rename, rm, rmdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fsError, MlvcError, uniqueName } from '../core/index.ts'
import { readMeta } from './meta.ts'
import { joinInside } from './paths.ts'
import { DBX, type ExpRepo } from './repo.ts'

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
export async function removeExperimentDir(
  repo: ExpRepo,
  entry: { id: string; path: string },
): Promise<void> {
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
