import { lstatSync, type Stats } from 'node:fs'
import { MlvcError, type ProgressOptions, withFileForReading } from '../core/index.ts'
import { fileSource } from '../store/index.ts'
import { storeContent } from './content.ts'
import { type EntityRef, type EntityRepo, entityPaths, metadataFiles } from './layout.ts'
import { type ManifestEntry, manifestWriter } from './manifest.ts'
import { dropIfEditedThrough } from './place.ts'
import { readSpec } from './spec.ts'
import { type StatRecord, stampOf, statCacheWriter } from './stat-cache.ts'
import { readHead, stagedAndCommitted, withEntityLock } from './state.ts'
import { loopTurner } from './turn.ts'
import { under, walkEntity } from './walk.ts'

export interface AddOptions extends ProgressOptions {
  /** Paths inside the entity folder to stage (files or folders); all of it when absent. */
  paths?: readonly string[] | undefined
}

export interface AddReport {
  added: number
  modified: number
  removed: number
  unchanged: number
  /** Files read and stored (the others were known from the stat cache). */
  read: number
  /** Bytes new to the store. */
  newBytes: number
  /** Files and bytes staged in all. */
  files: number
  bytes: number
}

export function modeOf(stat: Stats): number {
  return stat.mode & 0o111 ? 0o755 : 0o644
}

/** Stores one file; CHANGED-during-add is an IO error naming it (nothing is staged then). */
async function storeFile(repo: EntityRepo, abs: string, stat: Stats, options: ProgressOptions) {
  const result = await withFileForReading(abs, ({ fd, size }) =>
    storeContent(repo.store, fileSource(fd, size), abs, options.signal),
  )
  const after = lstatSync(abs, { throwIfNoEntry: false })
  if (!after || stampOf(after) !== stampOf(stat) || result.size !== stat.size)
    throw new MlvcError('IO', `${abs} changed while it was being added`, {
      path: abs,
      detail: 'changed while it was being added',
      hint: 'let whatever writes it finish, then run add again (nothing was staged)',
    })
  return result
}

/**
 * Stages files of the entity folder: stores those the stat cache does not know (one pass, one
 * store commit), then writes the staged manifest and the stat cache, each atomically, once the
 * store has committed. Interrupted (Ctrl-C), it stages nothing.
 */
export async function addFiles(
  repo: EntityRepo,
  ref: EntityRef,
  options: AddOptions = {},
): Promise<AddReport> {
  const paths = entityPaths(repo, ref)
  const spec = readSpec(paths.spec, ref)
  const selection = options.paths?.map((p) => p.replace(/\/+$/, ''))
  return withEntityLock(paths, ref, async () => {
    const head = readHead(paths)
    const report: AddReport = {
      added: 0,
      modified: 0,
      removed: 0,
      unchanged: 0,
      read: 0,
      newBytes: 0,
      files: 0,
      bytes: 0,
    }
    const index = manifestWriter(`${paths.index}`)
    const cache = statCacheWriter(paths.statCache)
    try {
      const rows = stagedAndCommitted(paths, walkEntity(paths.dir, metadataFiles(ref)))
      const turn = loopTurner()
      for (const [file, staged, cached, committed] of rows) {
        await turn()
        if (options.signal?.aborted)
          throw new MlvcError(
            'INTERRUPTED',
            `add of ${ref.kind} ${ref.name} interrupted; nothing was staged`,
          )
        const path = (file ?? staged ?? cached ?? committed)?.path as string
        if (!under(path, selection)) {
          if (staged) index.write(staged)
          if (cached && file && cached.stamp === stampOf(file.stat)) cache.write(cached)
          continue
        }
        if (!file) {
          if (staged && head.partial) index.write(staged)
          else if (staged) report.removed++
          continue
        }
        let record: StatRecord | undefined =
          cached && cached.stamp === stampOf(file.stat) ? cached : undefined
        if (!record) {
          if (staged) dropIfEditedThrough(repo, staged, file.stat)
          const stored = await storeFile(repo, file.abs, file.stat, options)
          report.read++
          report.newBytes += stored.newBytes
          record = { path, stamp: stampOf(file.stat), sha256: stored.sha256, id: stored.id }
          options.onProgress?.({ type: 'files', phase: 'adding', done: report.read, total: 0 })
        }
        const entry: ManifestEntry = {
          path,
          id: record.id,
          size: file.stat.size,
          mode: modeOf(file.stat),
        }
        if (spec.mutability === 'strict' && committed && committed.id !== entry.id)
          throw new MlvcError(
            'USAGE',
            `${file.abs}: changed, but ${ref.kind} ${ref.name} is strict: a committed file never changes`,
            {
              hint: `add it under a new name, restore it (mlvc ${ref.kind} checkout ${ref.name} --force), or set mutability: flexible in the spec`,
            },
          )
        if (!staged) report.added++
        else if (staged.id !== entry.id || staged.mode !== entry.mode) report.modified++
        else report.unchanged++
        index.write(entry)
        cache.write(record)
      }
      report.files = index.count
      report.bytes = index.bytes
      await repo.store.commit()
      index.finish()
      cache.finish()
    } catch (err) {
      index.abort()
      cache.abort()
      throw err
    }
    return report
  })
}
