import { lstat, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { acquireLock, listDirIfExists } from '../core/index.ts'
import { readAttachments } from './attach.ts'
import { DBX, type ExpRepo } from './repo.ts'
import { attachDir, parseRepoFileName } from './repofiles.ts'
import { findExperimentDirs } from './scan.ts'
import { readLinks } from './version.ts'

/** RepoFiles and leftovers younger than this are kept: a logger may be attaching them right now. */
export const EXP_GC_GRACE_MS = 60 * 60 * 1000

export interface ExpGcOptions {
  /** Report what would go; remove nothing. @default false */
  dryRun?: boolean | undefined
  /** @default EXP_GC_GRACE_MS (one hour) */
  graceMs?: number | undefined
}

export interface ExpGcReport {
  removed: Array<{ sha256: string; size: number }>
  bytes: number
  /** RepoFiles kept: referenced, listed in attachments, or too recent. */
  kept: number
  /** Leftover folders of interrupted syncs removed from .dbx/tmp. */
  leftovers: number
  dryRun: boolean
}

/** Every RepoFile some experiment links to or `.dbx/attachments` lists. */
async function referenced(repo: ExpRepo): Promise<Set<string>> {
  const refs = new Set<string>()
  for (const dir of await findExperimentDirs(repo)) {
    for (const link of await readLinks(repo, dir)) if (link.sha256) refs.add(link.sha256)
  }
  for (const a of await readAttachments(repo)) refs.add(a.sha256)
  return refs
}

/**
 * Removes RepoFiles nothing references from `.dbx/attach/`. With a named storage root only the
 * link in attach/ goes: the root may be shared by other repositories. The mlvc store is not touched
 * (other Git branches may still link to a RepoFile). Holds the sync lock.
 */
export async function gcRepoFiles(repo: ExpRepo, options: ExpGcOptions = {}): Promise<ExpGcReport> {
  const dryRun = options.dryRun === true
  const cutoff = Date.now() - (options.graceMs ?? EXP_GC_GRACE_MS)
  const lock = await acquireLock(join(repo.dbx, DBX.syncLock), `experiment repository ${repo.root}`)
  try {
    const refs = await referenced(repo)
    const report: ExpGcReport = { removed: [], bytes: 0, kept: 0, leftovers: 0, dryRun }
    for (const name of await listDirIfExists(attachDir(repo))) {
      const sha256 = parseRepoFileName(name)
      if (sha256 === undefined) continue
      const path = join(attachDir(repo), name)
      const info = await lstat(path)
      if (refs.has(sha256) || info.mtimeMs > cutoff) {
        report.kept++
        continue
      }
      const size = info.isFile() ? info.size : 0
      if (!dryRun) await rm(path, { force: true })
      report.removed.push({ sha256, size })
      report.bytes += size
    }
    const tmp = join(repo.dbx, DBX.tmp)
    for (const name of await listDirIfExists(tmp)) {
      const info = await lstat(join(tmp, name))
      if (info.mtimeMs > cutoff) continue
      if (!dryRun) await rm(join(tmp, name), { recursive: true, force: true })
      report.leftovers++
    }
    return report
  } finally {
    await lock.release()
  }
}
