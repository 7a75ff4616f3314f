import type { Dirent } from 'node:fs'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fsError, isErrno, MlvcError } from '../core/index.ts'
import { type ExpMeta, META_FILE, readMetaSync } from './meta.ts'
import { toPosixRel } from './paths.ts'
import type { ExpRepo } from './repo.ts'

/** An experiment found in a repository. */
export interface Experiment {
  id: string
  /** meta.json's name (null without one). */
  name: string | null
  /** Folder relative to the repository root, "/"-separated: `<name>/<id>` or `<id>`. */
  path: string
  /** Absolute folder. */
  dir: string
  meta: ExpMeta
}

/** Something wrong with one file; the rest of the repository is still read. */
export interface Problem {
  path: string
  message: string
}

function readEntries(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return []
    throw fsError(err, 'listing', dir)
  }
}

/**
 * Folders under the root that hold a meta.json, skipping hidden entries (`.dbx/`) and never
 * following symlinked folders; an experiment's own subfolders are not searched. Synchronous on
 * purpose: for thousands of small reads the thread pool behind fs/promises is about 4× slower.
 */
export async function findExperimentDirs(repo: ExpRepo): Promise<string[]> {
  const found: string[] = []
  let level = [repo.root]
  while (level.length > 0) {
    const next: string[] = []
    for (const dir of level) {
      const entries = readEntries(dir)
      if (dir !== repo.root && entries.some((e) => e.name === META_FILE && !e.isDirectory())) {
        found.push(dir)
        continue
      }
      for (const e of entries) {
        if (e.isDirectory() && !e.name.startsWith('.')) next.push(join(dir, e.name))
      }
    }
    level = next
  }
  return found.sort()
}

export interface LoadResult {
  experiments: Experiment[]
  problems: Problem[]
}

/**
 * Every experiment of the repository with its meta.json, sorted by path. Unreadable meta.json files
 * and ids used twice are reported as problems, not thrown.
 */
export async function loadExperiments(repo: ExpRepo): Promise<LoadResult> {
  const dirs = await findExperimentDirs(repo)
  const problems: Problem[] = []
  const loaded = dirs.map((dir) => {
    try {
      const meta = readMetaSync(dir)
      const exp: Experiment = {
        id: meta.id,
        name: meta.name,
        path: toPosixRel(repo.root, dir),
        dir,
        meta,
      }
      return exp
    } catch (err) {
      problems.push({ path: join(dir, META_FILE), message: (err as Error).message })
      return undefined
    }
  })
  const experiments = loaded.filter((e): e is Experiment => e !== undefined)
  const byId = new Map<string, Experiment[]>()
  for (const exp of experiments) byId.set(exp.id, [...(byId.get(exp.id) ?? []), exp])
  for (const [id, same] of byId) {
    if (same.length < 2) continue
    problems.push({
      path: same.map((e) => e.path).join(', '),
      message: `id ${id} is used by ${same.length} experiments: ${same.map((e) => e.path).join(', ')}`,
    })
  }
  return { experiments, problems: problems.sort((a, b) => (a.path < b.path ? -1 : 1)) }
}

/**
 * The experiment whose id is `idOrPrefix`, or the only one whose id starts with it. NOT_FOUND or
 * USAGE (ambiguous) otherwise.
 */
export function pickExperiment(experiments: readonly Experiment[], idOrPrefix: string): Experiment {
  const exact = experiments.filter((e) => e.id === idOrPrefix)
  const matches = exact.length > 0 ? exact : experiments.filter((e) => e.id.startsWith(idOrPrefix))
  if (matches.length === 1) return matches[0] as Experiment
  if (matches.length === 0) {
    const byPath = experiments.filter((e) => e.path === idOrPrefix)
    if (byPath.length === 1) return byPath[0] as Experiment
    return notFound(idOrPrefix)
  }
  return ambiguous(idOrPrefix, matches)
}

function notFound(id: string): never {
  throw new MlvcError('NOT_FOUND', `no experiment with id ${id}`, {
    hint: 'mlvc exp list shows the ids',
  })
}

function ambiguous(id: string, matches: readonly Experiment[]): never {
  throw new MlvcError(
    'USAGE',
    `${id} matches ${matches.length} experiments (${matches
      .slice(0, 5)
      .map((e) => e.id)
      .join(', ')}${matches.length > 5 ? ', …' : ''})`,
    { hint: 'give more characters of the id' },
  )
}
