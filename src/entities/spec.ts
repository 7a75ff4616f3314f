import { readFileSync } from 'node:fs'
import { parseDocument, stringify } from 'yaml'
import { fsError, isErrno, MlvcError } from '../core/index.ts'
import { ENTITY_KINDS, type EntityKind, type EntityRef, nameProblem } from './layout.ts'

/**
 * How an entity's files may change, as in ml-git: `strict` files are read-only hard links and a
 * committed file may never change (only new files are added); `flexible` files are read-only hard
 * links that may be replaced by new versions; `mutable` files are writable copies.
 */
export type Mutability = 'strict' | 'flexible' | 'mutable'
const MUTABILITIES: readonly Mutability[] = ['strict', 'flexible', 'mutable']

/** The entities a version was made from (a model from its labels and dataset), by tag. */
export interface Lineage {
  dataset?: string | undefined
  labels?: string | undefined
}

/** An entity's spec file (`NAME.spec`, YAML), committed to Git with its manifest. */
export interface EntitySpec {
  kind: EntityKind
  name: string
  categories: string[]
  /** The committed version (0 before the first commit). */
  version: number
  mutability: Mutability
  /** The mlvc remote its files are pushed to; the default remote when absent. */
  remote?: string | undefined
  lineage?: Lineage | undefined
}

const KEYS = ['kind', 'name', 'categories', 'version', 'mutability', 'remote', 'lineage']
/** A tag: categories, name and version joined by "__". */
const TAG = /^(?:[A-Za-z0-9][A-Za-z0-9._-]*__)*[A-Za-z0-9][A-Za-z0-9._-]*__[0-9]+$/

function bad(file: string, field: string, what: string): MlvcError {
  return new MlvcError('BAD_SPEC', `${file}: ${field} ${what}`, {
    path: file,
    detail: `${field} ${what}`,
    hint: 'fix the spec file by hand, or restore it: git checkout -- FILE',
  })
}

function checkText(file: string, field: string, value: unknown): string {
  if (typeof value !== 'string')
    throw bad(file, field, `must be a name, got ${JSON.stringify(value)}`)
  const problem = nameProblem(value)
  if (problem) throw bad(file, field, `${JSON.stringify(value)}: ${problem}`)
  return value
}

function checkLineage(file: string, value: unknown): Lineage | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'object' || Array.isArray(value))
    throw bad(file, 'lineage', 'must be a mapping with dataset and/or labels')
  const lineage: Lineage = {}
  for (const [key, tag] of Object.entries(value)) {
    if (key !== 'dataset' && key !== 'labels')
      throw bad(file, `lineage.${key}`, 'is not a known field (dataset, labels)')
    if (typeof tag !== 'string' || !TAG.test(tag))
      throw bad(
        file,
        `lineage.${key}`,
        `must be a tag like CATEGORY__NAME__1, got ${JSON.stringify(tag)}`,
      )
    lineage[key] = tag
  }
  return lineage
}

/**
 * Parses and checks a spec: every field known and of the right type, kind and name those of the
 * entity it belongs to (`expected`). Any problem is BAD_SPEC naming the file and the field.
 */
export function parseSpec(text: string, file: string, expected?: EntityRef): EntitySpec {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false })
  if (doc.errors.length > 0)
    throw bad(file, 'YAML', `does not parse: ${doc.errors[0]?.message.split('\n')[0]}`)
  const tree: unknown = doc.toJS()
  if (typeof tree !== 'object' || tree === null || Array.isArray(tree))
    throw bad(
      file,
      'the document',
      'must be a mapping of kind, name, categories, version, mutability',
    )
  const raw = tree as Record<string, unknown>
  for (const key of Object.keys(raw))
    if (!KEYS.includes(key)) throw bad(file, key, `is not a known field (${KEYS.join(', ')})`)
  const kind = raw.kind
  if (!ENTITY_KINDS.includes(kind as EntityKind))
    throw bad(
      file,
      'kind',
      `must be one of ${ENTITY_KINDS.join(', ')}, got ${JSON.stringify(kind)}`,
    )
  const name = checkText(file, 'name', raw.name)
  if (expected && (expected.kind !== kind || expected.name !== name))
    throw bad(
      file,
      'kind/name',
      `say ${kind} ${name}, but the file belongs to ${expected.kind} ${expected.name}`,
    )
  const categories = raw.categories ?? []
  if (!Array.isArray(categories)) throw bad(file, 'categories', 'must be a list of names')
  for (const [i, c] of categories.entries()) checkText(file, `categories[${i}]`, c)
  const version = raw.version
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0)
    throw bad(file, 'version', `must be a whole number ≥ 0, got ${JSON.stringify(version)}`)
  const mutability = raw.mutability ?? 'strict'
  if (!MUTABILITIES.includes(mutability as Mutability))
    throw bad(
      file,
      'mutability',
      `must be strict, flexible or mutable, got ${JSON.stringify(mutability)}`,
    )
  const remote = raw.remote === undefined || raw.remote === null ? undefined : raw.remote
  if (remote !== undefined && (typeof remote !== 'string' || remote === ''))
    throw bad(file, 'remote', `must be the name of an mlvc remote, got ${JSON.stringify(remote)}`)
  return {
    kind: kind as EntityKind,
    name,
    categories: categories as string[],
    version,
    mutability: mutability as Mutability,
    remote,
    lineage: checkLineage(file, raw.lineage),
  }
}

/** The spec as YAML, fields in a fixed order (a deterministic file: diffs show only changes). */
export function formatSpec(spec: EntitySpec): string {
  const out: Record<string, unknown> = {
    kind: spec.kind,
    name: spec.name,
    categories: spec.categories,
    version: spec.version,
    mutability: spec.mutability,
  }
  if (spec.remote !== undefined) out.remote = spec.remote
  const lineage = spec.lineage
  if (lineage && (lineage.dataset || lineage.labels)) {
    out.lineage = {
      ...(lineage.dataset ? { dataset: lineage.dataset } : {}),
      ...(lineage.labels ? { labels: lineage.labels } : {}),
    }
  }
  return stringify(out, { flowCollectionPadding: false })
}

export function readSpec(file: string, expected: EntityRef): EntitySpec {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if (isErrno(err, 'ENOENT'))
      throw new MlvcError(
        'NOT_FOUND',
        `no ${expected.kind} named ${expected.name}: ${file} does not exist`,
        {
          hint: `create it: mlvc ${expected.kind} init ${expected.name}`,
        },
      )
    throw fsError(err, 'reading', file)
  }
  return parseSpec(text, file, expected)
}

/** ml-git's tag form: the categories, the name and the version, joined by "__". */
export function tagOf(spec: Pick<EntitySpec, 'categories' | 'name'>, version: number): string {
  return [...spec.categories, spec.name, String(version)].join('__')
}

/** The name and version a tag names; undefined for anything else. */
export function parseTag(
  tag: string,
): { name: string; version: number; categories: string[] } | undefined {
  if (!TAG.test(tag)) return undefined
  const parts = tag.split('__')
  const version = Number(parts.pop())
  const name = parts.pop() as string
  return { name, version, categories: parts }
}
