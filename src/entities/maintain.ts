import { lstatSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { hashFileSync, type ProgressOptions } from '../core/index.ts'
import { closure } from '../store/index.ts'
import { contentSha256 } from './content.ts'
import { listEntities } from './history.ts'
import { type EntityKind, type EntityRepo, entityPaths } from './layout.ts'
import { readManifestFile } from './manifest.ts'
import { stagedFile } from './state.ts'
import { loopTurner } from './turn.ts'

export interface EntityIssue {
  /** The entity (KIND NAME) or the cache file the issue is about. */
  where: string
  problem: string
}

export interface EntityFsckReport {
  entities: number
  files: number
  cacheFiles: number
  /** Damaged cached copies removed (the next checkout writes them again from the store). */
  repairedCache: number
  issues: EntityIssue[]
}

function* cacheFiles(repo: EntityRepo): Generator<{ abs: string; id: string; mode: number }> {
  const root = join(repo.stateRoot, 'cache')
  let dirs: string[]
  try {
    dirs = readdirSync(root)
  } catch {
    return
  }
  for (const dir of dirs)
    for (const name of readdirSync(join(root, dir))) {
      const [id = '', mode = ''] = name.split('.')
      yield { abs: join(root, dir, name), id, mode: Number.parseInt(mode, 8) }
    }
}

/**
 * Checks the entities of a kind: every spec and manifest parses and is safe, the store holds
 * everything their files need, and every cached copy still matches its id (a damaged one, edited
 * in place through a link, is removed: the next checkout writes it again).
 */
export async function fsckEntities(
  repo: EntityRepo,
  kind: EntityKind,
  options: ProgressOptions = {},
): Promise<EntityFsckReport> {
  const report: EntityFsckReport = {
    entities: 0,
    files: 0,
    cacheFiles: 0,
    repairedCache: 0,
    issues: [],
  }
  const ids = new Set<string>()
  let entities: ReturnType<typeof listEntities> = []
  try {
    entities = listEntities(repo, kind)
  } catch (err) {
    report.issues.push({ where: kind, problem: err instanceof Error ? err.message : String(err) })
  }
  for (const spec of entities) {
    report.entities++
    const paths = entityPaths(repo, spec)
    try {
      for (const file of new Set([paths.manifest, stagedFile(paths)]))
        for (const e of readManifestFile(file, true)) {
          if (file === paths.manifest) report.files++
          ids.add(e.id)
        }
    } catch (err) {
      report.issues.push({
        where: `${kind} ${spec.name}`,
        problem: err instanceof Error ? err.message : String(err),
      })
    }
  }
  const { missing } = await closure(repo.store, ids, { tolerateDamage: true })
  for (const ref of missing)
    report.issues.push({
      where: ref.id,
      problem: 'needed by an entity, but not in the local store (fetch it)',
    })
  const turn = loopTurner()
  for (const cached of cacheFiles(repo)) {
    await turn()
    report.cacheFiles++
    options.onProgress?.({
      type: 'files',
      phase: 'checking cached copies',
      done: report.cacheFiles,
      total: 0,
    })
    let ok = false
    try {
      ok = hashFileSync(cached.abs).sha256 === (await contentSha256(repo.store, cached.id))
    } catch {
      ok = false
    }
    if (!ok) {
      rmSync(cached.abs, { force: true })
      report.repairedCache++
    }
  }
  return report
}

/**
 * Removes cached copies no entity folder links to any more (their link count is 1): the link
 * cache holds only what some checkout uses. Returns how many files and bytes were removed.
 */
export function pruneCache(repo: EntityRepo, dryRun = false): { files: number; bytes: number } {
  const out = { files: 0, bytes: 0 }
  for (const cached of cacheFiles(repo)) {
    const info = lstatSync(cached.abs, { throwIfNoEntry: false })
    if (!info || info.nlink > 1) continue
    out.files++
    out.bytes += info.size
    if (!dryRun) rmSync(cached.abs, { force: true })
  }
  return out
}
