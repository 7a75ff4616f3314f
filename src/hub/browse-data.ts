import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import {
  diffVersions,
  ENTITY_KINDS,
  type EntityKind,
  type EntityRepo,
  entityTags,
  showVersion,
  type VersionDiff,
} from '../entities/index.ts'
import type { Repo } from './accounts.ts'
import { browseStore } from './browse-files.ts'
import { HubHttpError } from './http.ts'
import type { Hub } from './hub.ts'

/**
 * Datasets, labels and models (src/entities) pushed to a hub repository: their versions are Git
 * tags whose commits hold the spec and the MANIFEST (paths, sizes, ids), so the hub reads them from
 * its bare repository with the entities layer's own functions; no file content is needed.
 */
async function entityRepo(hub: Hub, repo: Repo): Promise<EntityRepo> {
  const stateRoot = join(hub.config.data, 'browse-state', repo.id)
  await mkdir(join(stateRoot, 'tmp'), { recursive: true })
  return {
    workTree: hub.gitDir(repo.id),
    stateRoot,
    store: await browseStore(hub, repo),
    openRemote: () => hub.storage.remote(repo.id),
  }
}

export interface EntityVersions {
  kind: EntityKind
  name: string
  categories: string[]
  versions: Array<{
    tag: string
    version: number
    files: number
    bytes: number
    mutability: string
    lineage: unknown
  }>
}

/** Every entity with each of its versions' file count and size. */
export async function listEntityVersions(hub: Hub, repo: Repo): Promise<EntityVersions[]> {
  const entities = await entityRepo(hub, repo)
  const out = new Map<string, EntityVersions>()
  for (const kind of ENTITY_KINDS) {
    for (const tag of await entityTags(entities.workTree, kind)) {
      const info = await showVersion(entities, kind, tag.tag)
      const key = `${kind}/${tag.name}`
      const entry = out.get(key) ?? {
        kind,
        name: tag.name,
        categories: tag.categories,
        versions: [],
      }
      entry.versions.push({
        tag: tag.tag,
        version: tag.version,
        files: info.files,
        bytes: info.bytes,
        mutability: info.spec.mutability,
        lineage: info.spec.lineage ?? null,
      })
      out.set(key, entry)
    }
  }
  return [...out.values()]
}

/** What changed between two versions of an entity (files added, removed, changed, with sizes). */
export async function entityDiff(
  hub: Hub,
  repo: Repo,
  query: { kind: string; from: string; to: string },
): Promise<VersionDiff> {
  const kind = ENTITY_KINDS.find((k) => k === query.kind)
  if (!kind) throw new HubHttpError(400, 'USAGE', `kind must be one of ${ENTITY_KINDS.join(', ')}`)
  return diffVersions(await entityRepo(hub, repo), kind, query.from, query.to)
}
