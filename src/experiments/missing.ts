import { join } from 'node:path'
import { readTextIfExists, writeFileAtomic } from '../core/index.ts'
import { DBX, type ExpRepo } from './repo.ts'
import { parseRepoFileName, repoFileName } from './repofiles.ts'

/**
 * `.dbx/missing` (this machine only): RepoFiles that experiments link to but whose bytes were left
 * behind (`sync --no-repofiles`), one `<sha256> <where they are>` per line. `mlvc exp fetch` reads it.
 */
export async function readMissing(repo: ExpRepo): Promise<Map<string, string[]>> {
  const path = join(repo.dbx, DBX.missing)
  const text = await readTextIfExists(path)
  if (text === undefined) return new Map()
  const out = new Map<string, string[]>()
  for (const line of text.split('\n')) {
    const space = line.indexOf(' ')
    const sha256 = line.slice(0, space)
    if (space < 0 || !parseRepoFileName(repoFileName(sha256))) continue
    const where = line.slice(space + 1).trim()
    const list = out.get(sha256) ?? []
    if (!list.includes(where)) list.push(where)
    out.set(sha256, list)
  }
  return out
}

async function writeMissing(repo: ExpRepo, missing: Map<string, string[]>): Promise<void> {
  let text = ''
  for (const [sha256, sources] of [...missing].sort(([a], [b]) => (a < b ? -1 : 1))) {
    for (const source of sources) text += `${sha256} ${source}\n`
  }
  await writeFileAtomic(join(repo.dbx, DBX.missing), text, { fsync: false })
}

/** Adds `sha256 → source` entries. */
export async function noteMissing(
  repo: ExpRepo,
  found: ReadonlyMap<string, string>,
): Promise<void> {
  if (found.size === 0) return
  const missing = await readMissing(repo)
  for (const [sha256, source] of found) {
    const list = missing.get(sha256) ?? []
    if (!list.includes(source)) list.push(source)
    missing.set(sha256, list)
  }
  await writeMissing(repo, missing)
}

/** Forgets RepoFiles that are now present. */
export async function clearMissing(repo: ExpRepo, present: Iterable<string>): Promise<void> {
  const missing = await readMissing(repo)
  let changed = false
  for (const sha256 of present) changed = missing.delete(sha256) || changed
  if (changed) await writeMissing(repo, missing)
}
