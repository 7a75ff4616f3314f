import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { uniqueName } from '../core/index.ts'
import { blobToFile } from './git-ops.ts'
import type { EntityRepo } from './layout.ts'
import { type ManifestEntry, readManifestFile } from './manifest.ts'
import { type EntityTag, manifestAt } from './tags.ts'

/**
 * Runs `task` over the entries of a version's manifest, streamed from Git through a temporary
 * file in the entity state (never whole in memory).
 */
export async function withVersionManifest<T>(
  repo: EntityRepo,
  version: EntityTag,
  task: (entries: () => Generator<ManifestEntry>) => Promise<T> | T,
): Promise<T> {
  const file = join(repo.stateRoot, 'tmp', `manifest-${uniqueName('v')}`)
  await blobToFile(repo.workTree, version.tag, manifestAt(version), file)
  try {
    return await task(() => readManifestFile(file))
  } finally {
    rmSync(file, { force: true })
  }
}
