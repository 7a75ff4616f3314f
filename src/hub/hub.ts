import { spawn } from 'node:child_process'
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { MlvcError } from '../core/index.ts'
import { type Account, createRepo, type Repo } from './accounts.ts'
import type { HubConfig } from './config.ts'
import type { Db } from './db.ts'
import { postgresDb } from './db-postgres.ts'
import { sqliteDb } from './db-sqlite.ts'
import { type HubLog, silentLog } from './log.ts'
import { migrate } from './schema.ts'
import { type HubStorage, hubStorage } from './storage.ts'

/** Everything a request handler needs: settings, the database, object storage, the log. */
export interface Hub {
  config: HubConfig
  db: Db
  storage: HubStorage
  log: HubLog
  /** The bare Git repository of a repository (under its id: names never reach the disk). */
  gitDir(repoId: string): string
  /** A folder for files being received (on the data folder's disk, so renames are cheap). */
  tmpDir: string
  close(): Promise<void>
}

/** Opens (and migrates) the hub's database and folders. */
export async function openHub(config: HubConfig, log: HubLog = silentLog): Promise<Hub> {
  await mkdir(join(config.data, 'repos'), { recursive: true })
  const tmpDir = join(config.data, 'tmp')
  await mkdir(tmpDir, { recursive: true })
  const db = config.database ? postgresDb(config.database) : sqliteDb(join(config.data, 'hub.db'))
  try {
    await migrate(db)
  } catch (err) {
    await db.close().catch(() => undefined)
    throw new MlvcError('IO', `hub database: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
      hint: config.database
        ? 'check that PostgreSQL is running and the URL is right'
        : `check ${join(config.data, 'hub.db')}`,
    })
  }
  return {
    config,
    db,
    storage: hubStorage(config),
    log,
    tmpDir,
    gitDir: (repoId) => join(config.data, 'repos', `${repoId}.git`),
    close: () => db.close(),
  }
}

function runGitIn(args: string[], cwd?: string): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn('git', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    child.on('error', fail)
    child.on('close', (code) =>
      code === 0 ? done() : fail(new MlvcError('GIT', `git ${args[0]}: ${stderr.trim()}`)),
    )
  })
}

/** Creates a repository: its row, then its bare Git repository (removed again if that fails). */
export async function addRepo(
  hub: Hub,
  input: { owner: Account; name: string; private: boolean },
): Promise<Repo> {
  const repo = await createRepo(hub.db, input)
  const dir = hub.gitDir(repo.id)
  try {
    await runGitIn(['init', '--quiet', '--bare', '--initial-branch=main', dir])
    await runGitIn(['config', 'http.receivepack', 'true'], dir)
    // Clients clone with partial-clone filters and protocol v2 options when the server allows.
    await runGitIn(['config', 'uploadpack.allowFilter', 'true'], dir)
  } catch (err) {
    await rm(dir, { recursive: true, force: true })
    await hub.db.run('DELETE FROM repos WHERE id = ?', [repo.id])
    throw err
  }
  hub.log.info('repository created', { repo: `${repo.owner}/${repo.name}`, id: repo.id })
  return repo
}
