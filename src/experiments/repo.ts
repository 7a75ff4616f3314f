import { existsSync, statSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import {
  ensureDir,
  fsError,
  isErrno,
  MlvcError,
  readTextIfExists,
  writeFileAtomic,
} from '../core/index.ts'
import { formatDbxJson, isDbxObject, parseDbxJson } from './dbx-json.ts'

/**
 * `.dbx/config.json`. dbx defines no keys yet; these are ours (unknown keys are kept as they are):
 *   remotes: { <name>: <url or path> }     where `mlvc exp push/pull [NAME]` go (default "origin")
 *   repofiles: { root: <name> }            RepoFiles live in the machine's named storage root
 */
export interface DbxConfig {
  remotes?: Record<string, string>
  repofiles?: { root?: string }
  [key: string]: unknown
}

/** An open experiment repository: a folder with a `.dbx/` subfolder. */
export interface ExpRepo {
  root: string
  dbx: string
  config: DbxConfig
  /** Named storage roots of this machine (`experiments.roots` in mlvc config). */
  roots: Record<string, string>
}

export interface OpenRepoOptions {
  /** Named storage roots of this machine. @default {} */
  roots?: Record<string, string> | undefined
}

/** Files and folders inside `.dbx/`. */
export const DBX = {
  config: 'config.json',
  index: 'index',
  history: 'history',
  attach: 'attach',
  attachments: 'attachments',
  storeIds: 'store-ids',
  missing: 'missing',
  tmp: 'tmp',
  cache: 'cache',
  syncLock: 'sync.lock',
} as const

export function dbxPath(repo: ExpRepo, name: keyof typeof DBX): string {
  return join(repo.dbx, DBX[name])
}

async function readConfig(path: string): Promise<DbxConfig> {
  const text = await readTextIfExists(path)
  if (text === undefined) return {}
  if (text.trim() === '') return {}
  let value: unknown
  try {
    value = parseDbxJson(text)
  } catch (err) {
    throw new MlvcError('BAD_CONFIG', `${path}: not valid JSON (${(err as Error).message})`, {
      cause: err,
      hint: 'fix the file by hand; an empty object {} is a valid config',
    })
  }
  if (!isDbxObject(value)) throw new MlvcError('BAD_CONFIG', `${path}: expected a JSON object`)
  const config = value as DbxConfig
  if (config.remotes !== undefined && !isStringMap(config.remotes)) {
    throw new MlvcError('BAD_CONFIG', `${path}: "remotes" must map names to URLs or paths`)
  }
  if (config.repofiles !== undefined && !isDbxObject(config.repofiles)) {
    throw new MlvcError('BAD_CONFIG', `${path}: "repofiles" must be an object`)
  }
  return config
}

function isStringMap(value: unknown): value is Record<string, string> {
  return isDbxObject(value) && Object.values(value).every((v) => typeof v === 'string')
}

/** Opens the repository at `dir` (which must hold `.dbx/`). */
export async function openExpRepo(dir: string, options: OpenRepoOptions = {}): Promise<ExpRepo> {
  const root = resolve(dir)
  const dbx = join(root, '.dbx')
  let isDir = false
  try {
    isDir = statSync(dbx).isDirectory()
  } catch (err) {
    if (!isErrno(err, 'ENOENT') && !isErrno(err, 'ENOTDIR')) throw fsError(err, 'reading', dbx)
  }
  if (!isDir) {
    throw new MlvcError('NOT_A_REPO', `${root} is not an experiment repository (no .dbx/ folder)`, {
      hint: `run mlvc exp init ${dir}`,
    })
  }
  const config = await readConfig(join(dbx, DBX.config))
  return { root, dbx, config, roots: options.roots ?? {} }
}

/** The nearest folder at or above `start` that holds `.dbx/`, or undefined. */
export function findExpRepoRoot(start: string): string | undefined {
  let dir = resolve(start)
  for (;;) {
    if (existsSync(join(dir, '.dbx'))) return dir
    const parent = dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
}

export interface InitRepoOptions extends OpenRepoOptions {
  /** Also write `.dbx/.gitignore` for the parts that must not be committed. @default false */
  gitignore?: boolean
}

/**
 * Inside Git, Git carries the experiments: RepoFile bytes (attach/) go to the mlvc store instead
 * (`.dbx/store-ids` is committed), and index/history — dbx sync's per-copy state, rebuilt from the
 * folders — stay out, or every merge of two clones would conflict in them.
 */
export const DBX_GITIGNORE = 'attach/\ntmp/\ncache/\nmissing\nindex\nhistory\n*.lock\n'

/**
 * Creates `.dbx/` with config.json, an empty index and history and attach/ (keeping whatever is
 * there already, so a folder of dbxlogger experiments becomes a repository in place).
 */
export async function initExpRepo(dir: string, options: InitRepoOptions = {}): Promise<ExpRepo> {
  const dbx = join(resolve(dir), '.dbx')
  await ensureDir(join(dbx, DBX.attach))
  const files: Array<[string, string]> = [
    [DBX.config, '{}\n'],
    [DBX.index, ''],
    [DBX.history, ''],
  ]
  if (options.gitignore) files.push(['.gitignore', DBX_GITIGNORE])
  for (const [name, text] of files) {
    try {
      await writeFile(join(dbx, name), text, { flag: 'wx' })
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw fsError(err, 'writing', join(dbx, name))
    }
  }
  return openExpRepo(dir, options)
}

/** Rewrites config.json (indent 4, sorted keys, as dbxlogger writes JSON). */
export async function saveConfig(repo: ExpRepo, config: DbxConfig): Promise<void> {
  await mkdir(repo.dbx, { recursive: true })
  await writeFileAtomic(join(repo.dbx, DBX.config), `${formatDbxJson(config, 4)}\n`)
  repo.config = config
}

/** Where this machine keeps the repository's RepoFile bytes: `.dbx/attach`, or a named root. */
export function repoFileStore(repo: ExpRepo): string {
  const name = repo.config.repofiles?.root
  if (name === undefined) return join(repo.dbx, DBX.attach)
  const path = repo.roots[name]
  if (path === undefined) {
    throw new MlvcError(
      'BAD_CONFIG',
      `${repo.root}: RepoFiles live in the storage root "${name}", which this machine does not define`,
      {
        hint: `add "experiments: { roots: { ${name}: /path/on/this/machine } }" to ~/.config/mlvc/config.yaml or .mlvc/config.local.yaml`,
      },
    )
  }
  if (!isAbsolute(path)) {
    throw new MlvcError('BAD_CONFIG', `storage root "${name}": ${path} is not an absolute path`)
  }
  return path
}
