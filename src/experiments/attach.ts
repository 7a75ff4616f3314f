import { appendFile, lstat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { ensureDir, fsError, isErrno, MlvcError, readTextIfExists } from '../core/index.ts'
import { ingestFile, pin, type Store } from '../store/index.ts'
import { checkFileName } from './files.ts'
import { copyAndHash } from './hash.ts'
import { joinInside } from './paths.ts'
import { DBX, type ExpRepo } from './repo.ts'
import {
  attachPath,
  parseRepoFileName,
  putRepoFile,
  repoFileName,
  repoLinkTarget,
  symlinkAtomic,
} from './repofiles.ts'

/** How a logged value refers to a RepoFile (our tag; dbxlogger has none). */
export interface RepoFileRef {
  _dbx: 'repofile'
  exp: string
  name: string
  sha256: string
  size: number
}

export interface AttachOptions {
  /**
   * Also keep the bytes in this mlvc store (pinned), so a clone of the enclosing Git repository can
   * get them back with `mlvc exp fetch`. Recorded in `.dbx/store-ids`.
   */
  store?: Store | undefined
}

/** Copies `source` into the repository's RepoFile storage; returns its sha-256 and size. */
export async function storeRepoFile(
  repo: ExpRepo,
  source: string,
  options: AttachOptions = {},
): Promise<{ sha256: string; size: number }> {
  const result = await putRepoFile(repo, (tmp) => copyAndHash(source, tmp))
  if (options.store) await keepInStore(repo, options.store, result.sha256)
  return result
}

/**
 * Stores `source` as a RepoFile and links it into the experiment as `name` (a relative symlink to
 * `.dbx/attach/SHA256-<hex>`, replacing an earlier link of that name).
 */
export async function attachFile(
  repo: ExpRepo,
  exp: { id: string; dir: string },
  source: string,
  name: string,
  options: AttachOptions = {},
): Promise<RepoFileRef> {
  const link = joinInside(exp.dir, checkFileName(name, exp.dir), 'RepoFile')
  await refuseRegularFile(link)
  const { sha256, size } = await storeRepoFile(repo, source, options)
  await ensureDir(dirname(link))
  await symlinkAtomic(repoLinkTarget(repo, link, sha256), link)
  return { _dbx: 'repofile', exp: exp.id, name, sha256, size }
}

async function refuseRegularFile(link: string): Promise<void> {
  try {
    if (!(await lstat(link)).isSymbolicLink()) {
      throw new MlvcError('USAGE', `${link} exists and is not a RepoFile link`, {
        hint: 'choose another name; ExpFiles are not replaced by RepoFiles',
      })
    }
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw fsError(err, 'reading', link)
  }
}

/**
 * Stores a RepoFile that no experiment references and lists it in `.dbx/attachments` so gc keeps
 * it (`<hash> <filename>` per line, as the dbx spec says).
 */
export async function keepAttachment(
  repo: ExpRepo,
  source: string,
  filename: string,
  options: AttachOptions = {},
): Promise<{ sha256: string; size: number }> {
  if (/[\n\r]/.test(filename)) throw new MlvcError('USAGE', 'attachment names cannot hold newlines')
  const result = await storeRepoFile(repo, source, options)
  const path = join(repo.dbx, DBX.attachments)
  const kept = await readAttachments(repo)
  if (!kept.some((a) => a.sha256 === result.sha256 && a.filename === filename)) {
    await appendFile(path, `${result.sha256} ${filename}\n`).catch((err) => {
      throw fsError(err, 'writing', path)
    })
  }
  return result
}

/** `.dbx/attachments`. The hash may be written bare or as `SHA256-<hex>`. */
export async function readAttachments(
  repo: ExpRepo,
): Promise<Array<{ sha256: string; filename: string; line: number }>> {
  const path = join(repo.dbx, DBX.attachments)
  const text = await readTextIfExists(path)
  if (text === undefined) return []
  const out: Array<{ sha256: string; filename: string; line: number }> = []
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return
    const [hash = '', ...rest] = line.trim().split(/\s+/)
    const sha256 = parseRepoFileName(hash) ?? parseRepoFileName(repoFileName(hash.toLowerCase()))
    if (sha256 === undefined) {
      throw new MlvcError('CORRUPT', `${path} line ${i + 1}: "${hash}" is not a sha-256`, {
        hint: 'each line is "<sha256> <filename>"',
      })
    }
    out.push({ sha256, filename: rest.join(' '), line: i + 1 })
  })
  return out
}

/** Ingests a RepoFile into the mlvc store, pins it and records the store id. */
async function keepInStore(repo: ExpRepo, store: Store, sha256: string): Promise<void> {
  const known = await readStoreIds(repo)
  const id = known.get(sha256)
  if (id !== undefined && (await store.has(id))) return
  const ingested = await ingestFile(store, attachPath(repo, sha256))
  await store.commit()
  await pin(store, ingested.id)
  const path = join(repo.dbx, DBX.storeIds)
  await appendFile(path, `${sha256} ${ingested.id}\n`).catch((err) => {
    throw fsError(err, 'writing', path)
  })
}

/** `.dbx/store-ids`: RepoFile sha-256 → mlvc store id, one `<sha256> <id>` per line. */
export async function readStoreIds(repo: ExpRepo): Promise<Map<string, string>> {
  const path = join(repo.dbx, DBX.storeIds)
  const text = await readTextIfExists(path)
  if (text === undefined) return new Map()
  const out = new Map<string, string>()
  for (const line of text.split('\n')) {
    const [sha256, id] = line.trim().split(' ')
    if (sha256 && id && parseRepoFileName(repoFileName(sha256))) out.set(sha256, id)
  }
  return out
}
