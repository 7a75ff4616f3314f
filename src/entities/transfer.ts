import type { ProgressOptions } from '../core/index.ts'
import { emptyPushReport, fetchObjects, type PushReport, pushObjects } from '../remote/index.ts'
import { parseId } from '../store/index.ts'
import { TRANSFER_BATCH } from './checkout.ts'
import { showFile } from './git-ops.ts'
import { type EntityKind, type EntityRef, type EntityRepo, entityPaths } from './layout.ts'
import { readManifestFile } from './manifest.ts'
import { parseSpec, readSpec } from './spec.ts'
import { entityTags, resolveVersion, specAt } from './tags.ts'
import { withVersionManifest } from './versions.ts'

export interface EntityPushReport extends PushReport {
  remote: string
  versions: string[]
  files: number
}

/**
 * Sends the files of every committed version of the entity (and of the checked-out MANIFEST) that
 * the remote lacks, in packs; objects already there are not sent again.
 */
export async function pushEntity(
  repo: EntityRepo,
  ref: EntityRef,
  options: ProgressOptions = {},
): Promise<EntityPushReport> {
  const paths = entityPaths(repo, ref)
  const spec = readSpec(paths.spec, ref)
  const ids = new Set<string>()
  const tags = await entityTags(repo.workTree, ref.kind, ref.name)
  for (const version of tags)
    await withVersionManifest(repo, version, (entries) => {
      for (const e of entries()) ids.add(e.id)
    })
  for (const e of readManifestFile(paths.manifest, true)) ids.add(e.id)
  const remote = repo.openRemote(spec.remote)
  const report = emptyPushReport()
  // In batches, as fetches are (see TRANSFER_BATCH): memory stays bounded at any file count.
  const all = [...ids]
  for (let at = 0; at < all.length || at === 0; at += TRANSFER_BATCH) {
    const part = await pushObjects(repo.store, remote, all.slice(at, at + TRANSFER_BATCH), options)
    for (const key of Object.keys(report) as Array<keyof PushReport>) report[key] += part[key]
  }
  return { ...report, remote: remote.name, versions: tags.map((t) => t.tag), files: ids.size }
}

export interface EntityFetchReport {
  tag: string
  remote: string
  files: number
  fetchedFiles: number
  fetchedObjects: number
  fetchedBytes: number
}

/** Brings a version's files the local store lacks from the entity's remote (no checkout). */
export async function fetchEntity(
  repo: EntityRepo,
  kind: EntityKind,
  target: string,
  options: ProgressOptions = {},
): Promise<EntityFetchReport> {
  const version = await resolveVersion(repo.workTree, kind, target)
  const spec = parseSpec(
    await showFile(repo.workTree, version.tag, specAt(version)),
    specAt(version),
    version,
  )
  const missing: string[] = []
  let files = 0
  await withVersionManifest(repo, version, (entries) => {
    for (const e of entries()) {
      files++
      if (!repo.store.lookup(parseId(e.id).digest)) missing.push(e.id)
    }
  })
  const remote = repo.openRemote(spec.remote)
  let fetchedObjects = 0
  let fetchedBytes = 0
  for (let at = 0; at < missing.length; at += TRANSFER_BATCH) {
    const batch = missing.slice(at, at + TRANSFER_BATCH)
    const report = await fetchObjects(repo.store, remote, batch, options)
    fetchedObjects += report.fetchedObjects
    fetchedBytes += report.fetchedBytes
  }
  return {
    tag: version.tag,
    remote: remote.name,
    files,
    fetchedFiles: missing.length,
    fetchedObjects,
    fetchedBytes,
  }
}
