import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { ENTITY_KINDS, type EntityRepo, entityPaths } from './layout.ts'
import { readManifestFile } from './manifest.ts'
import { entityTags } from './tags.ts'
import { withVersionManifest } from './versions.ts'

function listDirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
  } catch {
    return []
  }
}

/**
 * Every file id an entity needs kept, for gc: the files of every tagged version of every entity,
 * and of every entity folder's MANIFEST and staged index (staged files are not committed yet).
 */
export async function entityRoots(repo: EntityRepo): Promise<Set<string>> {
  const ids = new Set<string>()
  for (const kind of ENTITY_KINDS) {
    for (const version of await entityTags(repo.workTree, kind))
      await withVersionManifest(repo, version, (entries) => {
        for (const e of entries()) ids.add(e.id)
      })
    const names = new Set([
      ...listDirs(join(repo.workTree, kind)),
      ...listDirs(join(repo.stateRoot, kind)),
    ])
    for (const name of names) {
      const paths = entityPaths(repo, { kind, name })
      for (const file of [paths.manifest, paths.index])
        for (const e of readManifestFile(file, true)) ids.add(e.id)
    }
  }
  return ids
}
