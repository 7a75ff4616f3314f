import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fsError, MlvcError } from '../core/index.ts'
import { type DbxObject, isDbxObject, nestedDeeperThan, parseDbxJson } from './dbx-json.ts'
import { isSafeId } from './ids.ts'

/** Git state at creation. dbxlogger's field is spelled `uncommited_changes`; both are read. */
export interface GitMeta {
  branch: string | null
  commit: string | null
  commit_long?: string
  uncommited_changes: boolean
  /** Our addition: the ExpFile holding `git diff HEAD` when there were uncommitted changes. */
  patch?: string
}

/**
 * meta.json as dbxlogger writes it (sorted keys, indent 4): id, createdAt (UTC ISO "Z"), kind,
 * params, name (null without one), cmd (argv), pwd, hostname, script, env, git. Extra keys are kept.
 */
export interface ExpMeta {
  id: string
  name: string | null
  kind: string
  createdAt: string
  params: DbxObject
  cmd?: string[]
  pwd?: string
  hostname?: string
  script?: string
  env?: Record<string, string>
  git?: GitMeta
  [key: string]: unknown
}

export const META_FILE = 'meta.json'

function metaError(path: string, message: string, cause?: unknown): MlvcError {
  return new MlvcError('CORRUPT', `${path}: ${message}`, {
    cause,
    hint: 'fix or remove the file by hand; nothing else in the experiment was touched',
  })
}

/** How deep meta.json may nest (params of real runs nest a few levels). */
const MAX_META_DEPTH = 100

/** Validates parsed meta.json; trims what dbxlogger leaves untrimmed (the branch's newline). */
export function checkMeta(value: unknown, path: string): ExpMeta {
  if (!isDbxObject(value)) throw metaError(path, 'expected a JSON object')
  if (nestedDeeperThan(value, MAX_META_DEPTH)) {
    throw metaError(path, `nested deeper than ${MAX_META_DEPTH} levels`)
  }
  const { id, name, kind, createdAt, params } = value
  if (typeof id !== 'string' || !isSafeId(id)) throw metaError(path, 'missing or invalid "id"')
  if (name !== undefined && name !== null && typeof name !== 'string') {
    throw metaError(path, '"name" must be a string or null')
  }
  if (params !== undefined && params !== null && !isDbxObject(params)) {
    throw metaError(path, '"params" must be an object')
  }
  const meta: ExpMeta = {
    ...value,
    id,
    name: name === undefined || name === '' ? null : name,
    kind: typeof kind === 'string' ? kind : '',
    createdAt: typeof createdAt === 'string' ? createdAt : '',
    params: (params as DbxObject | null | undefined) ?? {},
  }
  const git = value.git
  if (isDbxObject(git)) {
    const branch = typeof git.branch === 'string' ? git.branch.trim() : null
    meta.git = {
      ...(git as object),
      branch: branch === '' ? null : branch,
      commit: typeof git.commit === 'string' ? git.commit.trim() : null,
      uncommited_changes: git.uncommited_changes === true || git.uncommitted_changes === true,
    } as GitMeta
  }
  return meta
}

/** Reads and checks `<dir>/meta.json`; errors name the file. */
export async function readMeta(dir: string): Promise<ExpMeta> {
  const path = join(dir, META_FILE)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw fsError(err, 'reading', path)
  }
  return parseMeta(text, path)
}

/** readMeta without the thread pool, for scanning thousands of experiments. */
export function readMetaSync(dir: string): ExpMeta {
  const path = join(dir, META_FILE)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw fsError(err, 'reading', path)
  }
  return parseMeta(text, path)
}

function parseMeta(text: string, path: string): ExpMeta {
  let value: unknown
  try {
    value = parseDbxJson(text)
  } catch (err) {
    throw metaError(path, `not valid JSON (${(err as Error).message})`, err)
  }
  return checkMeta(value, path)
}
