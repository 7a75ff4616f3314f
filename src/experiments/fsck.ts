import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { fsError, hashFile, isErrno, type ProgressOptions } from '../core/index.ts'
import { readAttachments } from './attach.ts'
import { readFilesJson } from './files.ts'
import { readAllLogs } from './log-read.ts'
import { readMissing } from './missing.ts'
import type { ExpRepo } from './repo.ts'
import { attachDir, hasRepoFile, parseRepoFileName } from './repofiles.ts'
import { type Experiment, loadExperiments } from './scan.ts'
import { readLinks } from './version.ts'

export interface ExpFsckIssue {
  severity: 'error' | 'warning'
  path: string
  message: string
}

export interface ExpFsckReport {
  experiments: number
  repofiles: number
  bytes: number
  issues: ExpFsckIssue[]
}

async function checkExpFiles(exp: Experiment, issues: ExpFsckIssue[]): Promise<void> {
  let files: Record<string, string>
  try {
    files = await readFilesJson(exp.dir)
  } catch (err) {
    issues.push({
      severity: 'error',
      path: join(exp.dir, 'files.json'),
      message: (err as Error).message,
    })
    return
  }
  for (const [name, sha256] of Object.entries(files)) {
    const path = join(exp.dir, name)
    try {
      const actual = await hashFile(path)
      if (actual.sha256 !== sha256) {
        issues.push({
          severity: 'error',
          path,
          message: `content hashes to ${actual.sha256}; files.json says ${sha256}`,
        })
      }
    } catch (err) {
      issues.push({ severity: 'error', path, message: (err as Error).message })
    }
  }
}

async function checkExperiment(
  repo: ExpRepo,
  exp: Experiment,
  missing: Map<string, string[]>,
  issues: ExpFsckIssue[],
): Promise<void> {
  const expected = exp.name === null ? exp.id : `${exp.name}/${exp.id}`
  if (exp.path !== expected) {
    issues.push({
      severity: 'warning',
      path: exp.dir,
      message: `folder is ${exp.path}, meta.json says ${expected}`,
    })
  }
  await checkExpFiles(exp, issues)
  for (const link of await readLinks(repo, exp.dir)) {
    if (link.error !== undefined)
      issues.push({ severity: 'error', path: link.path, message: link.error })
    else if (link.sha256 !== undefined && !(await hasRepoFile(repo, link.sha256))) {
      const where = missing.get(link.sha256)
      issues.push(
        where
          ? {
              severity: 'warning',
              path: link.path,
              message: `RepoFile not fetched yet (at ${where.join(', ')}; mlvc exp fetch)`,
            }
          : {
              severity: 'error',
              path: link.path,
              message: `RepoFile SHA256-${link.sha256} is missing`,
            },
      )
    }
  }
  const logs = await readAllLogs(exp.dir)
  for (const p of logs.problems) {
    issues.push({
      severity: logs.cutOff.includes(p) ? 'warning' : 'error',
      path: p.path,
      message: p.message,
    })
  }
}

/**
 * Verifies a repository: every meta.json, every ExpFile listed in files.json (by hash), every
 * RepoFile link, every log line, and every RepoFile's bytes against its `SHA256-<hex>` name.
 */
export async function fsckRepo(
  repo: ExpRepo,
  options: ProgressOptions = {},
): Promise<ExpFsckReport> {
  const issues: ExpFsckIssue[] = []
  const loaded = await loadExperiments(repo)
  for (const p of loaded.problems)
    issues.push({ severity: 'error', path: p.path, message: p.message })
  const missing = await readMissing(repo)
  for (const exp of loaded.experiments) await checkExperiment(repo, exp, missing, issues)
  let names: string[] = []
  try {
    names = (await readdir(attachDir(repo))).filter((n) => !n.startsWith('.'))
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw fsError(err, 'listing', attachDir(repo))
  }
  const report: ExpFsckReport = {
    experiments: loaded.experiments.length,
    repofiles: 0,
    bytes: 0,
    issues,
  }
  for (const [i, name] of names.entries()) {
    options.onProgress?.({
      type: 'objects',
      phase: 'verifying RepoFiles',
      done: i,
      total: names.length,
    })
    const path = join(attachDir(repo), name)
    const sha256 = parseRepoFileName(name)
    if (sha256 === undefined) {
      issues.push({ severity: 'warning', path, message: 'not a RepoFile name (SHA256-<hex>)' })
      continue
    }
    try {
      if (!(await hasRepoFile(repo, sha256))) continue
      const actual = await hashFile(path)
      report.repofiles++
      report.bytes += actual.size
      if (actual.sha256 !== sha256) {
        issues.push({
          severity: 'error',
          path,
          message: `content hashes to ${actual.sha256}, not to its name`,
        })
      }
    } catch (err) {
      issues.push({ severity: 'error', path, message: (err as Error).message })
    }
  }
  try {
    for (const a of await readAttachments(repo)) {
      if (!(await hasRepoFile(repo, a.sha256))) {
        issues.push({
          severity: 'error',
          path: join(repo.dbx, 'attachments'),
          message: `line ${a.line}: ${a.filename} (SHA256-${a.sha256}) is missing`,
        })
      }
    }
  } catch (err) {
    issues.push({
      severity: 'error',
      path: join(repo.dbx, 'attachments'),
      message: (err as Error).message,
    })
  }
  return report
}
