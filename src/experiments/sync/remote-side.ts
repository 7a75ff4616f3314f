import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hashFile, isMlvcError, MlvcError, uniqueName } from '../../core/index.ts'
import type { Remote } from '../../remote/index.ts'
import { isDbxObject, parseDbxJson } from '../dbx-json.ts'
import { checkRelPath } from '../paths.ts'
import { parseRepoFileName, repoFileName } from '../repofiles.ts'
import { type ExpVersion, type FileEntry, makeVersion, type RepoFileEntry } from '../version.ts'
import type { ExpSide, Fill, HistoryRecord, IndexEntry } from './index.ts'
import { formatHistory, formatIndex, parseHistory, parseIndex } from './state.ts'

/**
 * Object keys of an experiment repository on a Remote (a folder, S3 or the hub):
 *   .dbx/index, .dbx/history          as in a local repository
 *   .dbx/versions/<id>.json           the current version: files with sha-256 and size, RepoFile links
 *   .dbx/attach/SHA256-<hex>          RepoFile bytes
 *   <path>/<file>                     the experiment's files (meta.json, logs, ExpFiles)
 * Object stores have no symlinks, so RepoFile links live only in the version objects.
 */
export const REMOTE_KEYS = {
  index: '.dbx/index',
  history: '.dbx/history',
  version: (id: string) => `.dbx/versions/${id}.json`,
  attach: (sha256: string) => `.dbx/attach/${repoFileName(sha256)}`,
  file: (path: string, name: string) => `${path}/${name}`,
}

const HEX = /^[0-9a-f]{64}$/

async function getText(remote: Remote, key: string): Promise<string> {
  try {
    return (await remote.get(key)).toString('utf8')
  } catch (err) {
    if (isMlvcError(err, 'NOT_FOUND')) return ''
    throw err
  }
}

function bad(remote: Remote, key: string, message: string): MlvcError {
  return new MlvcError('CORRUPT', `remote ${remote.name}: ${key}: ${message}`, {
    hint: 'push again from a good copy of the repository',
  })
}

/** Parses and checks a version object against the index entry that names it. */
export function parseVersion(text: string, entry: IndexEntry, source: string): ExpVersion {
  let value: unknown
  try {
    value = parseDbxJson(text)
  } catch (err) {
    throw new MlvcError('CORRUPT', `${source}: not valid JSON (${(err as Error).message})`)
  }
  if (!isDbxObject(value) || !Array.isArray(value.files) || !Array.isArray(value.repofiles)) {
    throw new MlvcError('CORRUPT', `${source}: not a version object`)
  }
  const files: FileEntry[] = value.files.map((f) => {
    if (
      !isDbxObject(f) ||
      typeof f.name !== 'string' ||
      typeof f.sha256 !== 'string' ||
      !HEX.test(f.sha256) ||
      typeof f.size !== 'number'
    ) {
      throw new MlvcError('CORRUPT', `${source}: invalid file entry`)
    }
    return { name: checkRelPath(f.name, source), sha256: f.sha256, size: f.size }
  })
  const repofiles: RepoFileEntry[] = value.repofiles.map((r) => {
    if (
      !isDbxObject(r) ||
      typeof r.name !== 'string' ||
      typeof r.sha256 !== 'string' ||
      !HEX.test(r.sha256)
    ) {
      throw new MlvcError('CORRUPT', `${source}: invalid RepoFile entry`)
    }
    return { name: checkRelPath(r.name, source), sha256: r.sha256 }
  })
  const version = makeVersion(entry.id, entry.path, files, repofiles)
  if (version.hash !== entry.hash || value.id !== entry.id) {
    throw new MlvcError('CORRUPT', `${source}: does not match the index entry of ${entry.id}`, {
      hint: 'a push was interrupted or the remote was changed by hand; push again',
    })
  }
  return version
}

/** A repository kept as objects on any Remote, as one end of a sync. */
export function remoteSide(remote: Remote): ExpSide {
  let history: HistoryRecord[] = []
  const label = remote.url
  const version = async (entry: IndexEntry) =>
    parseVersion(
      await getText(remote, REMOTE_KEYS.version(entry.id)),
      entry,
      `remote ${remote.name}: ${REMOTE_KEYS.version(entry.id)}`,
    )

  async function withTemp<T>(fn: (path: string) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(join(tmpdir(), 'mlvc-exp-'))
    try {
      return await fn(join(dir, uniqueName('f')))
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }

  async function upload(
    fill: Fill,
    key: string,
    expected?: string,
  ): Promise<{ sha256: string; size: number }> {
    return withTemp(async (tmp) => {
      const result = await fill(tmp)
      if (expected !== undefined && result.sha256 !== expected) {
        throw new MlvcError(
          'CORRUPT',
          `${key}: the bytes read hash to ${result.sha256}, not ${expected}`,
        )
      }
      await remote.upload(tmp, key)
      return result
    })
  }

  async function download(
    key: string,
    to: string,
    sha256: string,
  ): Promise<{ sha256: string; size: number }> {
    await remote.download(key, to)
    const result = await hashFile(to)
    if (result.sha256 !== sha256) {
      await rm(to, { force: true })
      throw bad(remote, key, `content hashes to ${result.sha256}, expected ${sha256}`)
    }
    return result
  }

  return {
    label,
    isLocal: false,
    async load() {
      const index = parseIndex(
        await getText(remote, REMOTE_KEYS.index),
        `remote ${remote.name}: ${REMOTE_KEYS.index}`,
      )
      const hist = parseHistory(
        await getText(remote, REMOTE_KEYS.history),
        `remote ${remote.name}: ${REMOTE_KEYS.history}`,
      )
      history = hist.entries
      return {
        index: new Map(index.entries.map((e) => [e.id, e])),
        history: [...history],
        broken: index.rejected,
        problems: [...index.problems, ...hist.problems],
      }
    },
    version,
    fetchFile(v, name, to) {
      const file = v.files.find((f) => f.name === name)
      if (!file)
        throw new MlvcError('NOT_FOUND', `remote ${remote.name}: ${v.path} has no file ${name}`)
      return download(REMOTE_KEYS.file(v.path, name), to, file.sha256)
    },
    async putExperiment(v, fill, old) {
      const files: FileEntry[] = []
      for (const file of v.files) {
        const key = REMOTE_KEYS.file(v.path, checkRelPath(file.name, `file of ${v.id}`))
        const { sha256, size } = await upload(fill(file.name), key)
        files.push({ name: file.name, sha256, size })
      }
      const written = makeVersion(v.id, v.path, files, [...v.repofiles])
      if (old) {
        const before = await version(old).catch(() => undefined)
        const keep = new Set(old.path === v.path ? files.map((f) => f.name) : [])
        for (const f of before?.files ?? []) {
          if (!keep.has(f.name)) await remote.delete(REMOTE_KEYS.file(old.path, f.name))
        }
      }
      await remote.put(REMOTE_KEYS.version(v.id), `${JSON.stringify(written, null, 1)}\n`)
      return written
    },
    async deleteExperiment(entry) {
      const before = await version(entry).catch(() => undefined)
      for (const f of before?.files ?? []) await remote.delete(REMOTE_KEYS.file(entry.path, f.name))
      await remote.delete(REMOTE_KEYS.version(entry.id))
    },
    async repoFiles() {
      const out = new Set<string>()
      for await (const info of remote.list('.dbx/attach/')) {
        const sha256 = parseRepoFileName(info.key.slice('.dbx/attach/'.length))
        if (sha256) out.add(sha256)
      }
      return out
    },
    fetchRepoFile: (sha256, to) => download(REMOTE_KEYS.attach(sha256), to, sha256),
    async putRepoFile(sha256, fill) {
      await upload(fill, REMOTE_KEYS.attach(sha256), sha256)
    },
    referencedRepoFiles: () => [],
    async noteMissing() {},
    async save(index, added) {
      history = [...history, ...added]
      await remote.put(REMOTE_KEYS.history, formatHistory(history))
      await remote.put(REMOTE_KEYS.index, formatIndex(index.values()))
    },
    async close() {},
  }
}
