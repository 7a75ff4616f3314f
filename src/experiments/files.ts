import { rename, rm } from 'node:fs/promises'
import { hostname } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import {
  acquireLock,
  ensureDir,
  fsError,
  hashFile,
  isMlvcError,
  MlvcError,
  readTextIfExists,
  sha256Hex,
  uniqueName,
  writeFileAtomic,
} from '../core/index.ts'
import { formatDbxJson, isDbxObject, parseDbxJson } from './dbx-json.ts'
import { copyAndHash } from './hash.ts'
import { checkRelPath, isReservedName, joinInside } from './paths.ts'

/** How a logged value refers to an ExpFile (dbxlogger's encoding). */
export interface ExpFileRef {
  _dbx: 'expfile'
  exp: string
  name: string
  sha256: string
}

/** How a logged value refers to a file dbx does not store (dbxlogger's encoding). */
export interface RefFileRef {
  _dbx: 'reffile'
  path: string
  hostname: string
  sha256: string
}

export const FILES_JSON = 'files.json'

/** Checks an ExpFile or RepoFile name: a safe relative path that is not one of dbx's own files. */
export function checkFileName(name: string, dir: string): string {
  checkRelPath(name, `file name in ${dir}`)
  if (isReservedName(name)) {
    throw new MlvcError('USAGE', `${join(dir, name)}: "${name}" is reserved by dbx`, {
      hint: 'ExpFiles and RepoFiles cannot be named meta.json, files.json or end in log.jsonl',
    })
  }
  return name
}

/** files.json: ExpFile name → sha-256. Missing is empty; invalid is a CORRUPT error naming it. */
export async function readFilesJson(dir: string): Promise<Record<string, string>> {
  const path = join(dir, FILES_JSON)
  const text = await readTextIfExists(path)
  if (text === undefined) return {}
  let value: unknown
  try {
    value = parseDbxJson(text)
  } catch (err) {
    throw new MlvcError('CORRUPT', `${path}: not valid JSON (${(err as Error).message})`)
  }
  if (!isDbxObject(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw new MlvcError('CORRUPT', `${path}: expected an object of file name → sha256`)
  }
  return value as Record<string, string>
}

/** Records an ExpFile's hash in files.json, under a lock (several processes may add files). */
async function recordFile(dir: string, name: string, sha256: string): Promise<void> {
  const lockPath = join(dir, `.${FILES_JSON}.lock`)
  let lock: Awaited<ReturnType<typeof acquireLock>> | undefined
  for (let attempt = 0; lock === undefined; attempt++) {
    try {
      lock = await acquireLock(lockPath, join(dir, FILES_JSON))
    } catch (err) {
      if (!isMlvcError(err, 'LOCKED') || attempt > 500) throw err
      await new Promise((r) => setTimeout(r, 10))
    }
  }
  try {
    const files = await readFilesJson(dir)
    files[name] = sha256
    await writeFileAtomic(join(dir, FILES_JSON), formatDbxJson(files, 4), { fsync: false })
  } finally {
    await lock.release()
  }
}

/** Writes an ExpFile atomically and records it in files.json. */
export async function writeExpFile(
  exp: { id: string; dir: string },
  name: string,
  data: string | Uint8Array,
): Promise<ExpFileRef> {
  const path = joinInside(exp.dir, checkFileName(name, exp.dir), 'ExpFile')
  await ensureDir(dirname(path))
  await writeFileAtomic(path, data, { fsync: false })
  const sha256 = sha256Hex(data)
  await recordFile(exp.dir, name, sha256)
  return { _dbx: 'expfile', exp: exp.id, name, sha256 }
}

/** Copies a file into the experiment as an ExpFile and records it in files.json. */
export async function copyExpFile(
  exp: { id: string; dir: string },
  name: string,
  source: string,
): Promise<ExpFileRef> {
  const path = joinInside(exp.dir, checkFileName(name, exp.dir), 'ExpFile')
  await ensureDir(dirname(path))
  const tmp = join(dirname(path), `.${uniqueName('expfile')}`)
  let sha256: string
  try {
    sha256 = (await copyAndHash(source, tmp)).sha256
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw fsError(err, 'copying to', path)
  }
  await recordFile(exp.dir, name, sha256)
  return { _dbx: 'expfile', exp: exp.id, name, sha256 }
}

/** A reference to a file dbx does not store: its absolute path, this host and its sha-256. */
export async function refFile(path: string): Promise<RefFileRef> {
  const { sha256 } = await hashFile(path)
  return { _dbx: 'reffile', path: resolve(path), hostname: hostname(), sha256 }
}
