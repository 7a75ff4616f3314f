import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { MlvcError } from '../core/index.ts'
import { checkKey, folderRemote, parseS3Url, type Remote, s3Remote } from '../remote/index.ts'
import type { HubConfig } from './config.ts'
import { HubHttpError } from './http.ts'

/** The largest exclusive create the S3 storage reads into memory for its one conditional PUT. */
const EXCLUSIVE_BYTES = 1024 * 1024

/**
 * Where the hub keeps each repository's mlvc objects: a `Remote` per repository, under its id —
 * DATA/objects/<id>/ by default, or s3://BUCKET/PREFIX/<id>/ (the S3 remote code). Every hub
 * process sharing a database must share this storage too.
 */
export interface HubStorage {
  remote(repoId: string): Remote
  /** A local folder when objects are on local disk (served and written without a copy). */
  localRoot(repoId: string): string | undefined
  /**
   * Moves a received file into place as `key` (atomically: readers see the whole object or none);
   * with `exclusive`, false (and nothing moved) when the key exists.
   */
  commit(repoId: string, key: string, file: string, exclusive: boolean): Promise<boolean>
  /** Removes a repository's objects (its deletion). */
  drop(repoId: string): Promise<void>
}

export function hubStorage(config: HubConfig): HubStorage {
  const objects = config.objects
  if (!objects) {
    const root = (repoId: string) => join(config.data, 'objects', repoId)
    return {
      remote: (repoId) => folderRemote(`hub:${repoId}`, root(repoId)),
      localRoot: root,
      async commit(repoId, key, file, exclusive) {
        const target = join(root(repoId), checkKey(key, repoId))
        await mkdir(dirname(target), { recursive: true })
        if (!exclusive) {
          await rename(file, target)
          return true
        }
        // A hard link fails when the target exists: of two concurrent creates one wins.
        const { link } = await import('node:fs/promises')
        try {
          await link(file, target)
          return true
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
          throw err
        } finally {
          await rm(file, { force: true })
        }
      },
      drop: (repoId) => rm(root(repoId), { recursive: true, force: true }),
    }
  }
  const base = parseS3Url(objects.url, 'hub objects')
  const remote = (repoId: string) =>
    s3Remote(`hub:${repoId}`, `${objects.url}/${repoId}`, {
      ...base,
      prefix: base.prefix ? `${base.prefix}/${repoId}` : repoId,
      endpoint: objects.endpoint,
      region: objects.region,
      pathStyle: objects.pathStyle,
    })
  return {
    remote,
    localRoot: () => undefined,
    async commit(repoId, key, file, exclusive) {
      try {
        const target = remote(repoId)
        if (!exclusive) {
          await target.upload(file, key)
          return true
        }
        // One conditional PUT (If-None-Match: *): of two racing creates exactly one wins, which a
        // HEAD then PUT could not promise. Exclusive keys are locks and markers, a few bytes.
        const size = (await stat(file)).size
        if (size > EXCLUSIVE_BYTES) {
          throw new HubHttpError(
            413,
            'USAGE',
            `an exclusive create (If-None-Match: *) takes at most ${EXCLUSIVE_BYTES} bytes, not ${size}`,
          )
        }
        return await target.create(key, await readFile(file))
      } finally {
        await rm(file, { force: true })
      }
    },
    async drop(repoId) {
      const target = remote(repoId)
      for await (const info of target.list('')) await target.delete(info.key)
    },
  }
}

export function storageError(err: unknown, key: string): MlvcError {
  if (err instanceof MlvcError) return err
  return new MlvcError(
    'IO',
    `hub storage: ${key}: ${err instanceof Error ? err.message : String(err)}`,
    { cause: err },
  )
}
