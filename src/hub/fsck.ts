import { spawn } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { MlvcError } from '../core/index.ts'
import { MARKER_KEY } from '../remote/index.ts'
import { listRepos } from './accounts.ts'
import { checkStubs } from './gate.ts'
import { trackEverything, writeAllTracked } from './hook.ts'
import type { Hub } from './hub.ts'
import { checkPack, idxPackName } from './pack-check.ts'

export type HubIssueKind =
  | 'git'
  | 'corrupt-pack'
  | 'missing-object'
  | 'unindexed-pack'
  | 'encrypted'

export interface HubIssue {
  repo: string
  kind: HubIssueKind
  severity: 'error' | 'warning'
  message: string
}

export interface HubFsckReport {
  repos: number
  packs: number
  stubs: number
  issues: HubIssue[]
}

function gitFsck(dir: string): Promise<{ code: number; stderr: string }> {
  return new Promise((done) => {
    const child = spawn('git', ['fsck', '--no-progress', '--no-dangling'], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, GIT_CONFIG_NOSYSTEM: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 4096) stderr += d.toString()
    })
    child.on('error', (err) => done({ code: 1, stderr: err.message }))
    child.on('close', (code) => done({ code: code ?? 1, stderr }))
  })
}

/**
 * Checks every repository of the hub: its Git repository (`git fsck`), every plaintext pack
 * against its index (each object's bytes against its id, as on receipt), and that the hub holds
 * the file manifest of every stub in the history of every ref. Packs without an index are
 * reported (an interrupted upload: `mlvc hub gc` removes them). Encrypted repositories' objects
 * cannot be checked by the hub (it never has their key): reported as a warning; a client with the
 * key runs `mlvc fsck --remote`.
 */
export async function fsckHub(hub: Hub, options: { quick?: boolean } = {}): Promise<HubFsckReport> {
  const report: HubFsckReport = { repos: 0, packs: 0, stubs: 0, issues: [] }
  await mkdir(join(hub.config.data, 'hooks'), { recursive: true })
  await writeAllTracked(join(hub.config.data, 'hooks'))
  trackEverything(hub.config.data)
  for (const repo of await listRepos(hub.db)) {
    const name = `${repo.owner}/${repo.name}`
    const issue = (kind: HubIssueKind, message: string, severity: HubIssue['severity'] = 'error') =>
      report.issues.push({ repo: name, kind, severity, message })
    report.repos++
    const dir = hub.gitDir(repo.id)
    const fsck = await gitFsck(dir)
    if (fsck.code !== 0)
      issue('git', `git fsck: ${fsck.stderr.trim().split('\n').slice(0, 3).join('; ')}`)
    const remote = hub.storage.remote(repo.id)
    if (await remote.head(MARKER_KEY)) {
      issue(
        'encrypted',
        'objects are encrypted: the hub cannot check them (run mlvc fsck --remote with the key)',
        'warning',
      )
      continue
    }
    const keys = new Map<string, number>()
    for await (const info of remote.list('packs/')) keys.set(info.key, info.size)
    for (const key of keys.keys()) {
      const packName = idxPackName(key)
      if (packName === undefined) {
        const pack = /^packs\/(.+)\.pack$/.exec(key)?.[1]
        if (pack !== undefined && !keys.has(`packs/${pack}.idx`)) {
          issue(
            'unindexed-pack',
            `${key} has no index (an interrupted upload; mlvc hub gc removes it)`,
            'warning',
          )
        }
        continue
      }
      report.packs++
      if (options.quick) continue
      try {
        await checkPack(remote, packName, await remote.get(key), hub.storage.localRoot(repo.id))
      } catch (err) {
        if (!(err instanceof MlvcError)) throw err
        issue('corrupt-pack', err.message)
      }
    }
    const stubs = await checkStubs(dir, { options: ['--all'] }, remote)
    report.stubs += stubs.stubs
    for (const m of stubs.missing)
      issue(
        'missing-object',
        `${m.path}: the hub lacks its data (${m.id}); run mlvc push from a clone that has it`,
      )
  }
  return report
}
