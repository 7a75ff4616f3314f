import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { git } from '../git/index.ts'
import { showFile } from './git-ops.ts'
import { joinByPath } from './join.ts'
import { type EntityKind, type EntityRef, type EntityRepo, entityPaths } from './layout.ts'
import type { ManifestEntry } from './manifest.ts'
import { type EntitySpec, parseSpec, readSpec } from './spec.ts'
import { readHead } from './state.ts'
import { type EntityTag, entityTags, resolveVersion, specAt } from './tags.ts'
import { withVersionManifest } from './versions.ts'

export interface EntityListing extends EntitySpec {
  /** What is checked out (or was last committed) here. */
  checkedOut: string | null
}

/** The entities of a kind in this work tree (folders KIND/NAME with a spec), by name. */
export function listEntities(repo: EntityRepo, kind: EntityKind): EntityListing[] {
  let names: string[]
  try {
    names = readdirSync(join(repo.workTree, kind), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort()
  } catch {
    return []
  }
  const out: EntityListing[] = []
  for (const name of names) {
    const paths = entityPaths(repo, { kind, name })
    let spec: EntitySpec
    try {
      spec = readSpec(paths.spec, { kind, name })
    } catch (err) {
      if (err instanceof Error && 'code' in err && err.code === 'NOT_FOUND') continue
      throw err
    }
    out.push({ ...spec, checkedOut: readHead(paths).tag ?? null })
  }
  return out
}

export interface VersionInfo extends EntityTag {
  spec: EntitySpec
  files: number
  bytes: number
}

/** A committed version: its spec, and its files counted from the manifest. */
export async function showVersion(
  repo: EntityRepo,
  kind: EntityKind,
  target: string,
): Promise<VersionInfo> {
  const version = await resolveVersion(repo.workTree, kind, target)
  const spec = parseSpec(
    await showFile(repo.workTree, version.tag, specAt(version)),
    `${version.tag}:${specAt(version)}`,
    version,
  )
  let files = 0
  let bytes = 0
  await withVersionManifest(repo, version, (entries) => {
    for (const e of entries()) {
      files++
      bytes += e.size
    }
  })
  return { ...version, spec, files, bytes }
}

export interface LogEntry {
  commit: string
  date: string
  message: string
  tags: string[]
}

/** The commits that changed the entity's spec (each commit of a version), newest first. */
export async function entityLog(repo: EntityRepo, ref: EntityRef): Promise<LogEntry[]> {
  const tags = new Map<string, string[]>()
  const refs = await git(
    ['for-each-ref', '--format=%(objectname) %(*objectname) %(refname:strip=2)', 'refs/tags/'],
    {
      cwd: repo.workTree,
    },
  )
  for (const line of refs.split('\n').filter(Boolean)) {
    const [object, peeled, name] = line.split(' ')
    const commit = peeled || object
    if (commit && name) tags.set(commit, [...(tags.get(commit) ?? []), name])
  }
  const out = await git(['log', '--format=%H%x09%aI%x09%s', '--', specAt(ref)], {
    cwd: repo.workTree,
  })
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [commit = '', date = '', ...message] = line.split('\t')
      return { commit, date, message: message.join('\t'), tags: tags.get(commit) ?? [] }
    })
}

export interface FileChange {
  path: string
  before: number | null
  after: number | null
}

export interface VersionDiff {
  from: string
  to: string
  added: FileChange[]
  removed: FileChange[]
  changed: FileChange[]
  /** Bytes of the files added and of the new content of changed files. */
  newBytes: number
}

/** Files added, removed and changed (content or mode) between two versions, with sizes. */
export async function diffVersions(
  repo: EntityRepo,
  kind: EntityKind,
  from: string,
  to: string,
): Promise<VersionDiff> {
  const a = await resolveVersion(repo.workTree, kind, from)
  const b = await resolveVersion(repo.workTree, kind, to)
  const diff: VersionDiff = {
    from: a.tag,
    to: b.tag,
    added: [],
    removed: [],
    changed: [],
    newBytes: 0,
  }
  await withVersionManifest(repo, a, (left) =>
    withVersionManifest(repo, b, (right) => {
      for (const [x, y] of joinByPath<[Iterable<ManifestEntry>, Iterable<ManifestEntry>]>(
        left(),
        right(),
      )) {
        const change = {
          path: (x ?? y)?.path as string,
          before: x?.size ?? null,
          after: y?.size ?? null,
        }
        if (!x) diff.added.push(change)
        else if (!y) diff.removed.push(change)
        else if (x.id !== y.id || x.mode !== y.mode) diff.changed.push(change)
        else continue
        diff.newBytes += y?.size ?? 0
      }
    }),
  )
  return diff
}

export interface LineageNode {
  tag: string
  kind: EntityKind
  name: string
  version: number
  /** What this version was made from (a model: labels and dataset; labels: a dataset). */
  inputs: LineageNode[]
}

/** The lineage graph of a version: model ← labels ← dataset, as recorded at commit. */
export async function lineageOf(
  repo: EntityRepo,
  kind: EntityKind,
  target: string,
): Promise<LineageNode> {
  const version = await resolveVersion(repo.workTree, kind, target)
  const spec = parseSpec(
    await showFile(repo.workTree, version.tag, specAt(version)),
    `${version.tag}:${specAt(version)}`,
    version,
  )
  const inputs: LineageNode[] = []
  if (spec.lineage?.labels) inputs.push(await lineageOf(repo, 'labels', spec.lineage.labels))
  if (spec.lineage?.dataset) inputs.push(await lineageOf(repo, 'dataset', spec.lineage.dataset))
  return { tag: version.tag, kind, name: version.name, version: version.version, inputs }
}

export { entityTags }
