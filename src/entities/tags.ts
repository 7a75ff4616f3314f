import { MlvcError } from '../core/index.ts'
import { existingBlobs, listTags } from './git-ops.ts'
import { checkName, type EntityKind, type EntityRef, entityPath, specName } from './layout.ts'
import { parseTag } from './spec.ts'

export interface EntityTag {
  tag: string
  kind: EntityKind
  name: string
  version: number
  categories: string[]
}

/** Where a version's spec and manifest are in Git. */
export function specAt(ref: EntityRef): string {
  return `${entityPath(ref)}/${specName(ref)}`
}

export function manifestAt(ref: EntityRef): string {
  return `${entityPath(ref)}/MANIFEST`
}

/**
 * The tags of entities of `kind` (of the entity `name` only, when given), oldest version first: tags
 * in ml-git's form whose commit holds the entity's spec.
 */
export async function entityTags(
  workTree: string,
  kind: EntityKind,
  name?: string,
): Promise<EntityTag[]> {
  const candidates: EntityTag[] = []
  for (const tag of await listTags(workTree)) {
    const parsed = parseTag(tag)
    if (!parsed || (name !== undefined && parsed.name !== name)) continue
    candidates.push({ tag, kind, ...parsed })
  }
  const present = await existingBlobs(
    workTree,
    candidates.map((c) => `${c.tag}:${specAt(c)}`),
  )
  return candidates
    .filter((c) => present.has(`${c.tag}:${specAt(c)}`))
    .sort((a, b) => a.name.localeCompare(b.name) || a.version - b.version)
}

/**
 * The version `target` names: a tag (CATEGORIES__NAME__VERSION), NAME@VERSION, or NAME (its latest
 * version). NOT_FOUND when there is no such version of a `kind`.
 */
export async function resolveVersion(
  workTree: string,
  kind: EntityKind,
  target: string,
): Promise<EntityTag> {
  const parsed = parseTag(target)
  if (parsed) {
    const found = (await entityTags(workTree, kind, parsed.name)).find((t) => t.tag === target)
    if (!found)
      throw new MlvcError('NOT_FOUND', `no ${kind} version tagged ${target}`, {
        hint: `mlvc ${kind} tag list shows the tags; git fetch --tags gets those of the remote repository`,
      })
    return found
  }
  const at = target.lastIndexOf('@')
  const name = checkName(at < 0 ? target : target.slice(0, at), `${kind} name`)
  const versionText = at < 0 ? undefined : target.slice(at + 1)
  if (versionText !== undefined && !/^[0-9]+$/.test(versionText))
    throw new MlvcError('USAGE', `${target}: the version after @ must be a whole number`)
  const tags = await entityTags(workTree, kind, name)
  const found =
    versionText === undefined ? tags.at(-1) : tags.find((t) => t.version === Number(versionText))
  if (!found)
    throw new MlvcError(
      'NOT_FOUND',
      `no ${kind} ${name}${versionText === undefined ? ' version' : ` version ${versionText}`} is committed`,
      {
        hint: `mlvc ${kind} tag list shows the versions; git fetch --tags gets those of the remote repository`,
      },
    )
  return found
}
