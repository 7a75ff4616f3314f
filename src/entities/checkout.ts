import { lstatSync, renameSync, rmdirSync, rmSync } from 'node:fs'
import { copyFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import {
  fsError,
  isErrno,
  MlvcError,
  type ProgressOptions,
  uniqueName,
  writeFileAtomic,
} from '../core/index.ts'
import { fetchObjects } from '../remote/index.ts'
import { parseId } from '../store/index.ts'
import { modeOf } from './add.ts'
import { contentSha256 } from './content.ts'
import { blobToFile, showFile } from './git-ops.ts'
import { gitignoreText } from './init.ts'
import { joinByPath } from './join.ts'
import {
  type EntityKind,
  type EntityRef,
  type EntityRepo,
  entityPaths,
  metadataFiles,
} from './layout.ts'
import { type ManifestEntry, readManifestFile } from './manifest.ts'
import { dropIfEditedThrough, ensureParents, placeEntry } from './place.ts'
import { type Sample, sampler } from './sample.ts'
import { type EntitySpec, parseSpec } from './spec.ts'
import { readStatCache, stampOf, statCacheWriter } from './stat-cache.ts'
import { readHead, withEntityLock, writeHead } from './state.ts'
import { entityStatus } from './status.ts'
import { manifestAt, resolveVersion, specAt } from './tags.ts'
import { loopTurner } from './turn.ts'
import { walkEntity } from './walk.ts'

export interface CheckoutOptions extends ProgressOptions {
  /** Only the spec and the manifest, no files. @default false */
  bare?: boolean | undefined
  /** Only some of the files (see sample.ts), with the text the user gave for messages. */
  sample?: { sample: Sample; text: string } | undefined
  /** Check out over staged or unstaged changes (they are lost). @default false */
  force?: boolean | undefined
  /** Files that may fail to be written before the checkout stops. @default 0 */
  failLimit?: number | undefined
  /** Check out the dataset and labels the version was made from too. @default false */
  withLineage?: boolean | undefined
}

export interface CheckoutReport {
  tag: string
  kind: EntityKind
  name: string
  version: number
  /** Files in the version, and those this checkout selected (all unless sampled or bare). */
  total: number
  selected: number
  bytes: number
  linked: number
  copied: number
  /** Selected files that were in place already. */
  kept: number
  removed: number
  fetched: number
  failed: Array<{ path: string; message: string }>
  lineage: CheckoutReport[]
}

/** Refuses when the checkout would lose work: staged changes, modified or untracked files. */
function checkClean(repo: EntityRepo, ref: EntityRef): void {
  const status = entityStatus(repo, ref)
  const changes = [
    ...status.staged.added,
    ...status.staged.modified,
    ...status.staged.deleted,
    ...status.unstaged.modified,
    ...status.unstaged.untracked,
  ]
  if (changes.length > 0)
    throw new MlvcError(
      'USAGE',
      `${ref.kind} ${ref.name} has changes a checkout would lose (${changes.length} files, first ${JSON.stringify(changes[0])})`,
      {
        hint: `commit them (mlvc ${ref.kind} add/commit ${ref.name}), or check out with --force to drop them`,
      },
    )
}

function selectedEntries(
  file: string,
  options: CheckoutOptions,
): { total: number; pick: () => boolean } {
  let total = 0
  for (const _ of readManifestFile(file)) total++
  if (options.bare) return { total, pick: () => false }
  if (!options.sample) return { total, pick: () => true }
  return { total, pick: sampler(options.sample.sample, total, options.sample.text) }
}

function* picked(
  file: string,
  pick: () => boolean,
): Generator<ManifestEntry & { picked: boolean }> {
  for (const entry of readManifestFile(file)) yield { ...entry, picked: pick() }
}

/** Fetches the files the store lacks from the entity's remote; returns how many were fetched. */
/** Files per call of the transfer engine (fetch and push). */
export const TRANSFER_BATCH = 20_000

export async function fetchMissing(
  repo: EntityRepo,
  spec: EntitySpec,
  ids: string[],
  options: ProgressOptions,
): Promise<number> {
  if (ids.length === 0) return 0
  const remote = repo.openRemote(spec.remote)
  const missing: string[] = []
  // In batches: the transfer engine holds every object of one call in memory (100,000 files in
  // one call peaked at 574 MiB).
  for (let at = 0; at < ids.length; at += TRANSFER_BATCH) {
    const report = await fetchObjects(repo.store, remote, ids.slice(at, at + TRANSFER_BATCH), {
      signal: options.signal,
      onProgress: options.onProgress,
    })
    for (const id of report.missing) missing.push(id)
  }
  const report = { missing }
  if (report.missing.length > 0)
    throw new MlvcError(
      'MISSING_OBJECT',
      `${report.missing.length} objects of ${spec.kind} ${spec.name} are neither in the local store nor on remote ${remote.name} (first ${report.missing[0]})`,
      {
        hint: `push them from a clone that has them: mlvc ${spec.kind} push ${spec.name}`,
      },
    )
  return ids.length
}

/**
 * Checks out a version: exactly its (selected) files in the entity folder — hard links to the
 * read-only link cache for strict and flexible entities, copies for mutable ones — fetching what
 * the store lacks first, then its spec and MANIFEST. Interrupted, it leaves a `pending` mark that
 * status reports; running it again finishes it.
 */
export async function checkoutEntity(
  repo: EntityRepo,
  kind: EntityKind,
  target: string,
  options: CheckoutOptions = {},
): Promise<CheckoutReport> {
  const version = await resolveVersion(repo.workTree, kind, target)
  const ref: EntityRef = { kind, name: version.name }
  const paths = entityPaths(repo, ref)
  const report = await withEntityLock(paths, ref, async () => {
    const head = readHead(paths)
    if (
      !options.force &&
      head.pending !== version.tag &&
      lstatSync(paths.spec, { throwIfNoEntry: false })
    )
      checkClean(repo, ref)
    const specText = await showFile(repo.workTree, version.tag, specAt(ref))
    const spec = parseSpec(specText, `${version.tag}:${specAt(ref)}`, ref)
    const incoming = join(paths.state, `checkout-${uniqueName('m')}`)
    await blobToFile(repo.workTree, version.tag, manifestAt(ref), incoming)
    try {
      return await place(
        repo,
        { ref, spec, specText, tag: version.tag, version: version.version, incoming },
        options,
      )
    } finally {
      rmSync(incoming, { force: true })
    }
  })
  if (options.withLineage && !options.bare) {
    const spec = parseSpec(
      await showFile(repo.workTree, version.tag, specAt(ref)),
      specAt(ref),
      ref,
    )
    const inputs: Array<[EntityKind, string | undefined]> = [
      ['dataset', spec.lineage?.dataset],
      ['labels', spec.lineage?.labels],
    ]
    for (const [k, tag] of inputs)
      if (tag)
        report.lineage.push(await checkoutEntity(repo, k, tag, { ...options, withLineage: true }))
  }
  return report
}

interface Target {
  ref: EntityRef
  spec: EntitySpec
  specText: string
  tag: string
  version: number
  incoming: string
}

async function place(
  repo: EntityRepo,
  target: Target,
  options: CheckoutOptions,
): Promise<CheckoutReport> {
  const { ref, spec, incoming } = target
  const paths = entityPaths(repo, ref)
  const { total, pick } = selectedEntries(incoming, options)
  const report: CheckoutReport = {
    tag: target.tag,
    kind: ref.kind,
    name: ref.name,
    version: target.version,
    total,
    selected: 0,
    bytes: 0,
    linked: 0,
    copied: 0,
    kept: 0,
    removed: 0,
    fetched: 0,
    failed: [],
    lineage: [],
  }
  const sampleAgain = () => selectedEntries(incoming, options).pick
  const missing: string[] = []
  for (const entry of picked(incoming, pick)) {
    if (entry.picked && !repo.store.lookup(parseId(entry.id).digest)) missing.push(entry.id)
  }
  report.fetched = await fetchMissing(repo, spec, missing, options)
  const partial = options.bare === true || options.sample !== undefined
  await writeHead(paths, { ...readHead(paths), pending: target.tag })
  const made = new Set<string>()
  const emptied = new Set<string>()
  const cache = statCacheWriter(paths.statCache)
  try {
    const rows = joinByPath(
      picked(incoming, sampleAgain()),
      walkEntity(paths.dir, metadataFiles(ref)),
      readStatCache(paths.statCache),
    )
    const turn = loopTurner()
    for (const [entry, file, cached] of rows) {
      await turn()
      if (options.signal?.aborted)
        throw new MlvcError(
          'INTERRUPTED',
          `checkout of ${target.tag} interrupted; run it again to finish it`,
        )
      if (!entry?.picked) {
        if (file) {
          rmSync(file.abs, { force: true })
          emptied.add(dirname(file.abs))
          report.removed++
        }
        continue
      }
      report.selected++
      report.bytes += entry.size
      if (
        file &&
        cached &&
        cached.id === entry.id &&
        cached.stamp === stampOf(file.stat) &&
        modeOf(file.stat) === entry.mode
      ) {
        report.kept++
        cache.write(cached)
        continue
      }
      const abs = join(paths.dir, entry.path)
      if (file && cached)
        dropIfEditedThrough(repo, { id: cached.id, mode: modeOf(file.stat) }, file.stat)
      try {
        ensureParents(paths.dir, entry.path, made)
        const how = await placeEntry(repo, entry, abs, spec.mutability !== 'mutable')
        report[how]++
        const sha256 = await contentSha256(repo.store, entry.id)
        cache.write({ path: entry.path, stamp: stampOf(lstatSync(abs)), sha256, id: entry.id })
      } catch (err) {
        if (err instanceof MlvcError && err.code === 'INTERRUPTED') throw err
        report.failed.push({
          path: entry.path,
          message: err instanceof Error ? err.message : String(err),
        })
        if (report.failed.length > (options.failLimit ?? 0)) throw err
      }
      options.onProgress?.({
        type: 'files',
        phase: `checking out ${target.tag}`,
        done: report.selected,
        total,
      })
    }
    cache.finish()
  } catch (err) {
    cache.abort()
    throw err
  }
  for (const dir of emptied) removeEmpty(dir, paths.dir)
  await publishMetadata(paths, target)
  rmSync(paths.index, { force: true })
  await writeHead(paths, {
    tag: target.tag,
    partial,
    pending: report.failed.length > 0 ? target.tag : undefined,
  })
  return report
}

async function publishMetadata(
  paths: ReturnType<typeof entityPaths>,
  target: Target,
): Promise<void> {
  try {
    renameSync(target.incoming, paths.manifest)
  } catch (err) {
    if (!isErrno(err, 'EXDEV')) throw fsError(err, 'writing', paths.manifest)
    await copyFile(target.incoming, paths.manifest)
  }
  await writeFileAtomic(paths.spec, target.specText)
  await writeFileAtomic(paths.gitignore, gitignoreText(target.ref))
}

/** Removes `dir` and its parents up to `root` (exclusive) while they are empty. */
function removeEmpty(dir: string, root: string): void {
  for (let d = dir; d.startsWith(`${root}/`); d = dirname(d)) {
    try {
      rmdirSync(d)
    } catch {
      return
    }
  }
}
