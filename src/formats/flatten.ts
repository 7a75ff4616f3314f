import { badFormat } from './bad-format.ts'
import type { MetadataValue } from './layout.ts'
import { metadataNumber } from './metadata.ts'
import type { PyValue } from './pickle.ts'

export interface Flattened<T> {
  /** Leaves that are tensors, by flattened name, in pickle order. */
  tensors: Array<[string, T]>
  /** Every other leaf, by flattened name. */
  values: Array<[string, MetadataValue]>
}

/** Bounds the walk: a pickle can reference one list from itself, or build a DAG with 2^n paths. */
const MAX_NODES = 1_000_000
const MAX_DEPTH = 100

function keyName(key: PyValue): string {
  if (typeof key === 'string') return key
  if (
    typeof key === 'number' ||
    typeof key === 'bigint' ||
    typeof key === 'boolean' ||
    key === null
  ) {
    return String(key)
  }
  if (key.type === 'tuple') return `(${key.items.map(keyName).join(',')})`
  if (key.type === 'global') return `${key.module}.${key.name}`
  return key.type
}

/**
 * Flattens nested dicts (and lists or tuples that hold tensors) into dotted names, as
 * `state_dict()` names parameters; the root itself is named ''. `isTensor` picks the tensor leaves.
 */
export function flattenPickle<T>(
  file: string,
  root: PyValue,
  isTensor: (v: PyValue) => T | undefined,
): Flattened<T> {
  const out: Flattened<T> = { tensors: [], values: [] }
  const active = new Set<PyValue>()
  const hasTensor = new Map<PyValue, boolean>()
  let nodes = 0

  const visit = (v: PyValue, depth: number, fn: () => void) => {
    if (++nodes > MAX_NODES) throw badFormat(file, `the pickle holds more than ${MAX_NODES} values`)
    if (depth > MAX_DEPTH) throw badFormat(file, `the pickle nests deeper than ${MAX_DEPTH} levels`)
    if (active.has(v)) throw badFormat(file, 'the pickle contains a container that holds itself')
    active.add(v)
    fn()
    active.delete(v)
  }

  const containsTensor = (v: PyValue, depth: number): boolean => {
    if (v === null || typeof v !== 'object') return false
    const known = hasTensor.get(v)
    if (known !== undefined) return known
    let found = isTensor(v) !== undefined
    visit(v, depth, () => {
      if (v.type === 'list' || v.type === 'tuple')
        found = v.items.some((x) => containsTensor(x, depth + 1))
      if (v.type === 'dict') found = v.entries.some(([, x]) => containsTensor(x, depth + 1))
    })
    hasTensor.set(v, found)
    return found
  }

  const walk = (v: PyValue, name: string, depth: number) => {
    const join = (key: string) => (name === '' ? key : `${name}.${key}`)
    const tensor = isTensor(v)
    if (tensor !== undefined) {
      out.tensors.push([name, tensor])
    } else if (v !== null && typeof v === 'object' && v.type === 'dict' && v.entries.length > 0) {
      visit(v, depth, () => {
        for (const [k, x] of v.entries) walk(x, join(keyName(k)), depth + 1)
      })
    } else if (
      v !== null &&
      typeof v === 'object' &&
      (v.type === 'list' || v.type === 'tuple') &&
      containsTensor(v, depth)
    ) {
      visit(v, depth, () => {
        v.items.forEach((x, i) => {
          walk(x, join(String(i)), depth + 1)
        })
      })
    } else if (!(name === '' && v !== null && typeof v === 'object' && v.type === 'dict')) {
      out.values.push([name, toMetadata(file, v, depth, visit)])
    }
  }
  walk(root, '', 0)
  return out
}

type Visit = (v: PyValue, depth: number, fn: () => void) => void

function toMetadata(file: string, v: PyValue, depth: number, visit: Visit): MetadataValue {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'bigint') return metadataNumber(v)
  let result: MetadataValue = null
  visit(v, depth, () => {
    switch (v.type) {
      case 'bytes':
        result = { $bytes: Buffer.from(v.data).toString('base64') }
        break
      case 'list':
      case 'tuple':
      case 'set':
        result = v.items.map((x) => toMetadata(file, x, depth + 1, visit))
        break
      case 'dict':
        result = Object.fromEntries(
          v.entries.map(([k, x]) => [keyName(k), toMetadata(file, x, depth + 1, visit)]),
        )
        break
      case 'global':
        result = `${v.module}.${v.name}`
        break
      case 'object':
        result =
          v.cls === 'complex' && Array.isArray(v.data) ? `complex(${v.data.join(', ')})` : v.cls
        break
    }
  })
  return result
}
