import { readdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { isErrno } from '../core/index.ts'
import { listRepos } from './accounts.ts'
import type { Hub } from './hub.ts'

export interface HubGcReport {
  /** Received files that never completed (DATA/tmp). */
  tmpFiles: number
  /** Packs without an index, left by interrupted uploads. */
  unindexedPacks: number
  /** Git quarantine folders left by pushes the hub died in. */
  quarantines: number
  /** Repositories whose Git objects were packed and pruned (git gc). */
  gitGc: number
  dryRun: boolean
}

async function olderThan(path: string, before: number): Promise<boolean> {
  try {
    return (await stat(path)).mtimeMs < before
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false
    throw err
  }
}

async function entries(dir: string): Promise<string[]> {
  try {
    return await readdir(dir)
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return []
    throw err
  }
}

/**
 * Removes what interrupted work left behind, older than `graceMs` (younger is work in progress,
 * perhaps of another hub process sharing the folder): unfinished uploads in DATA/tmp, packs whose
 * index never came, Git quarantine folders; then `git gc` in every repository. Objects that no
 * commit needs any more are the clients' to remove (`mlvc gc --remote`): only they know every
 * branch's files, and encrypted objects' names.
 */
export async function gcHub(
  hub: Hub,
  options: { graceMs: number; dryRun?: boolean },
): Promise<HubGcReport> {
  const before = Date.now() - options.graceMs
  const dryRun = options.dryRun === true
  const report: HubGcReport = { tmpFiles: 0, unindexedPacks: 0, quarantines: 0, gitGc: 0, dryRun }
  const remove = async (path: string) => {
    if (!dryRun) await rm(path, { recursive: true, force: true })
  }
  for (const file of await entries(hub.tmpDir)) {
    if (!(await olderThan(join(hub.tmpDir, file), before))) continue
    report.tmpFiles++
    await remove(join(hub.tmpDir, file))
  }
  for (const repo of await listRepos(hub.db)) {
    const remote = hub.storage.remote(repo.id)
    const keys = new Map<string, Date | undefined>()
    for await (const info of remote.list('packs/')) keys.set(info.key, info.modified)
    for (const [key, modified] of keys) {
      const pack = /^packs\/(.+)\.pack$/.exec(key)?.[1]
      if (pack === undefined || keys.has(`packs/${pack}.idx`)) continue
      if (!modified || modified.getTime() >= before) continue
      report.unindexedPacks++
      if (!dryRun) await remote.delete(key)
    }
    const objects = join(hub.gitDir(repo.id), 'objects')
    for (const name of await entries(objects)) {
      if (!name.startsWith('tmp_objdir-') || !(await olderThan(join(objects, name), before)))
        continue
      report.quarantines++
      await remove(join(objects, name))
    }
    if (!dryRun) {
      const { spawnSync } = await import('node:child_process')
      const result = spawnSync(
        'git',
        ['gc', '--quiet', `--prune=${Math.ceil(options.graceMs / 1000)}.seconds.ago`],
        {
          cwd: hub.gitDir(repo.id),
          stdio: 'ignore',
        },
      )
      if (result.status === 0) report.gitGc++
    }
  }
  return report
}
