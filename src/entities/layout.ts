import { join } from 'node:path'
import { MlvcError } from '../core/index.ts'
import type { Remote } from '../remote/index.ts'
import type { Store } from '../store/index.ts'

/** The three kinds of versioned entity, as ml-git names them (and as the CLI verbs are spelled). */
export type EntityKind = 'dataset' | 'labels' | 'model'
export const ENTITY_KINDS: readonly EntityKind[] = ['dataset', 'labels', 'model']

/**
 * Where entities live: the Git work tree (entity folders `KIND/NAME/`, committed spec and
 * manifest), the local state (staging index, stat cache, locks, link cache: in the git dir of the
 * work tree, on its file system so hard links work), the store and remotes.
 */
export interface EntityRepo {
  workTree: string
  stateRoot: string
  store: Store
  /** Opens the named mlvc remote, or the default one (REMOTE error when none is configured). */
  openRemote(name?: string): Remote
}

export interface EntityRef {
  kind: EntityKind
  name: string
}

/** Names and categories: letters, digits, `.`, `_`, `-`; no `__` (the tag separator). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/

/** Null when `value` is a usable name or category, else what is wrong with it. */
export function nameProblem(value: string): string | null {
  if (!NAME.test(value))
    return 'use letters, digits, ".", "_" and "-" (at most 100), starting with a letter or digit'
  if (value.includes('__')) return 'must not contain "__" (it separates the parts of a tag)'
  return null
}

export function checkName(value: string, what: string): string {
  const problem = nameProblem(value)
  if (problem) throw new MlvcError('USAGE', `${what} ${JSON.stringify(value)}: ${problem}`)
  return value
}

export const MANIFEST_FILE = 'MANIFEST'
export const GITIGNORE_FILE = '.gitignore'

/** The entity folder, relative to the work tree (Git paths use "/"). */
export function entityPath(ref: EntityRef): string {
  return `${ref.kind}/${ref.name}`
}

export function specName(ref: EntityRef): string {
  return `${ref.name}.spec`
}

export interface EntityPaths {
  dir: string
  spec: string
  manifest: string
  gitignore: string
  /** Local state of this entity. */
  state: string
  /** The staged manifest: the next version's files (absent: the checked-out MANIFEST). */
  index: string
  statCache: string
  /** What is checked out: `{ tag, partial }` (see checkout.ts). */
  head: string
  lock: string
  tmp: string
}

export function entityPaths(repo: EntityRepo, ref: EntityRef): EntityPaths {
  const dir = join(repo.workTree, ref.kind, ref.name)
  const state = join(repo.stateRoot, ref.kind, ref.name)
  return {
    dir,
    spec: join(dir, specName(ref)),
    manifest: join(dir, MANIFEST_FILE),
    gitignore: join(dir, GITIGNORE_FILE),
    state,
    index: join(state, 'index'),
    statCache: join(state, 'stat-cache'),
    head: join(state, 'head.json'),
    lock: join(state, 'lock'),
    tmp: join(repo.stateRoot, 'tmp'),
  }
}

/** The link cache: one read-only file per content id and mode, hard-linked into entity folders. */
export function cachePath(repo: EntityRepo, id: string, mode: number): string {
  return join(repo.stateRoot, 'cache', id.slice(-2), `${id}.${mode.toString(8)}`)
}

/** The files of an entity folder that are metadata, not data (never in its manifest). */
export function metadataFiles(ref: EntityRef): Set<string> {
  return new Set([specName(ref), MANIFEST_FILE, GITIGNORE_FILE])
}
