import { copyFile, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises'
import { dirname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  fsError,
  isErrno,
  MlvcError,
  readFull,
  uniqueName,
  writeFileAtomic,
} from '../core/index.ts'
import { checkKey } from './keys.ts'
import type { Remote, RemoteObjectInfo } from './remote.ts'

/** A path or file:// URL to a folder path. */
export function folderPath(url: string): string {
  return url.startsWith('file://') ? fileURLToPath(url) : url
}

function remoteError(err: unknown, name: string, action: string, path: string): MlvcError {
  if (isErrno(err, 'ENOENT')) {
    return new MlvcError('NOT_FOUND', `remote ${name}: ${action} ${path}: not found`, {
      cause: err,
    })
  }
  const wrapped = fsError(err, `remote ${name}: ${action}`, path)
  return wrapped.code === 'IO' ? new MlvcError('REMOTE', wrapped.message, { cause: err }) : wrapped
}

/**
 * A remote in a local or mounted folder. Keys are relative paths; writes go to a temporary file in
 * the same folder and are renamed into place.
 */
export function folderRemote(
  name: string,
  url: string,
  options: { concurrency?: number | undefined } = {},
): Remote {
  const root = folderPath(url)
  const pathOf = (key: string) => join(root, checkKey(key, name))

  async function tempFor(path: string): Promise<string> {
    await mkdir(dirname(path), { recursive: true })
    return join(dirname(path), `.${uniqueName('incoming')}`)
  }

  async function* walk(dir: string): AsyncIterable<RemoteObjectInfo> {
    let entries: import('node:fs').Dirent[]
    try {
      entries = await readdir(dir, { withFileTypes: true })
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return
      throw remoteError(err, name, 'listing', dir)
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue
      const path = join(dir, entry.name)
      if (entry.isDirectory()) yield* walk(path)
      else if (entry.isFile()) {
        const info = await stat(path)
        yield {
          key: relative(root, path).split(sep).join('/'),
          size: info.size,
          modified: info.mtime,
        }
      }
    }
  }

  return {
    name,
    url,
    concurrency: options.concurrency,
    async *list(prefix) {
      const slash = prefix.lastIndexOf('/')
      const dir = slash < 0 ? root : join(root, checkKey(prefix.slice(0, slash), name))
      for await (const info of walk(dir)) if (info.key.startsWith(prefix)) yield info
    },
    async head(key) {
      try {
        const info = await stat(pathOf(key))
        return info.isFile() ? { key, size: info.size } : undefined
      } catch (err) {
        if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return undefined
        throw remoteError(err, name, 'reading', pathOf(key))
      }
    },
    async get(key) {
      try {
        return await readFile(pathOf(key))
      } catch (err) {
        throw remoteError(err, name, 'reading', pathOf(key))
      }
    },
    async getRange(key, offset, length, options) {
      const path = pathOf(key)
      let handle: import('node:fs/promises').FileHandle | undefined
      try {
        handle = await open(path, 'r')
        const into = options?.into
        const data =
          into && into.length >= length ? into.subarray(0, length) : Buffer.allocUnsafe(length)
        if ((await readFull(handle, data, offset)) < length) {
          const { size } = await handle.stat()
          throw new MlvcError(
            'REMOTE',
            `remote ${name}: ${key} is truncated: it has ${size} bytes, bytes ${offset} to ${offset + length} were asked for`,
            { hint: 'push the objects again from a clone that has them' },
          )
        }
        return data
      } catch (err) {
        throw err instanceof MlvcError ? err : remoteError(err, name, 'reading', path)
      } finally {
        await handle?.close()
      }
    },
    async download(key, path) {
      const tmp = await tempFor(path)
      try {
        await copyFile(pathOf(key), tmp)
        await rename(tmp, path)
      } catch (err) {
        await rm(tmp, { force: true })
        throw remoteError(err, name, 'downloading', pathOf(key))
      }
    },
    async put(key, data) {
      const path = pathOf(key)
      try {
        await mkdir(dirname(path), { recursive: true })
        await writeFileAtomic(path, data, { fsync: false })
      } catch (err) {
        throw remoteError(err, name, 'writing', path)
      }
    },
    async create(key, data) {
      const path = pathOf(key)
      try {
        await mkdir(dirname(path), { recursive: true })
        await writeFileAtomic(path, data, { fsync: false, replace: 'none' })
        return true
      } catch (err) {
        // Rule 'none' links the new file into place, which fails when anything is there.
        if (err instanceof MlvcError && err.code === 'USAGE') return false
        throw remoteError(err, name, 'writing', path)
      }
    },
    async upload(path, key, options) {
      const target = pathOf(key)
      let tmp: string | undefined
      try {
        tmp = await tempFor(target)
        await copyFile(path, tmp)
        await rename(tmp, target)
        options?.onBytes?.((await stat(target)).size)
      } catch (err) {
        if (tmp) await rm(tmp, { force: true })
        throw remoteError(err, name, 'uploading to', target)
      }
    },
    async delete(key) {
      try {
        await rm(pathOf(key), { force: true })
      } catch (err) {
        throw remoteError(err, name, 'deleting', pathOf(key))
      }
    },
  }
}
