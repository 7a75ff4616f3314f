import { MlvcError } from '../core/index.ts'
import { isDbxObject } from './dbx-json.ts'
import { type LogEvent, readAllLogs } from './log-read.ts'
import { type Aggregate, aggregate, metricSeries } from './metrics.ts'
import type { Experiment } from './scan.ts'

/**
 * What a query can look at. Syntax: `lr`, `model.depth` (params, dotted); `@name`, `@kind`, `@id`,
 * `@created`, `@host`, `@path` (meta); `last(loss)`, `min(val/*:acc)`, `max(acc)`, `first(…)`,
 * `count(…)` (a metric key in the events matching an optional pattern before ":").
 */
export type Field =
  | { kind: 'param'; path: string[] }
  | { kind: 'meta'; key: string }
  | { kind: 'metric'; agg: Aggregate; key: string; event?: string | undefined }

const META_KEYS: Record<string, (e: Experiment) => unknown> = {
  id: (e) => e.id,
  name: (e) => e.name ?? '',
  kind: (e) => e.meta.kind,
  created: (e) => e.meta.createdAt,
  host: (e) => e.meta.hostname ?? '',
  path: (e) => e.path,
  branch: (e) => e.meta.git?.branch ?? '',
  commit: (e) => e.meta.git?.commit ?? '',
}

export function parseField(text: string): Field {
  const metric = /^(last|first|min|max|count)\((?:(.*):)?([^:()]+)\)$/.exec(text.trim())
  if (metric) {
    const [, agg, event, key] = metric as unknown as [string, Aggregate, string | undefined, string]
    return { kind: 'metric', agg, key, event: event || undefined }
  }
  if (text.startsWith('@')) {
    const key = text.slice(1)
    if (!(key in META_KEYS)) {
      throw new MlvcError('USAGE', `unknown field ${text}`, {
        hint: `meta fields: ${Object.keys(META_KEYS)
          .map((k) => `@${k}`)
          .join(' ')}`,
      })
    }
    return { kind: 'meta', key }
  }
  const path = text.replace(/^params\./, '').split('.')
  if (path.some((p) => p === '')) throw new MlvcError('USAGE', `"${text}" is not a field`)
  return { kind: 'param', path }
}

export function fieldLabel(field: Field): string {
  switch (field.kind) {
    case 'param':
      return field.path.join('.')
    case 'meta':
      return `@${field.key}`
    case 'metric':
      return `${field.agg}(${field.event ? `${field.event}:` : ''}${field.key})`
  }
}

/** A param by dotted path. */
export function paramValue(params: unknown, path: readonly string[]): unknown {
  let node = params
  for (const part of path) {
    if (!isDbxObject(node)) return undefined
    node = node[part]
  }
  return node
}

/** The value of `field` for an experiment; `events` is needed for metric fields. */
export function fieldValue(exp: Experiment, field: Field, events?: readonly LogEvent[]): unknown {
  switch (field.kind) {
    case 'param':
      return paramValue(exp.meta.params, field.path)
    case 'meta':
      return META_KEYS[field.key]?.(exp)
    case 'metric':
      return aggregate(metricSeries(events ?? [], field.key, { event: field.event }), field.agg)
  }
}

export type Op = '<' | '<=' | '>' | '>=' | '=' | '!=' | '~'

export interface Where {
  field: Field
  op: Op
  value: string
}

export function parseWhere(text: string): Where {
  const m = /^(.+?)(<=|>=|!=|==|=|<|>|~)(.*)$/.exec(text.trim())
  if (!m) {
    throw new MlvcError('USAGE', `--where "${text}": expected FIELD OP VALUE`, {
      hint: 'for example --where "lr<0.01", --where optimizer=adam, --where "min(loss)<0.5"',
    })
  }
  const [, field, op, value] = m as unknown as [string, string, string, string]
  return {
    field: parseField(field.trim()),
    op: (op === '==' ? '=' : op) as Op,
    value: value.trim(),
  }
}

function asNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v
  if (typeof v === 'boolean') return undefined
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v)
  return undefined
}

export function display(v: unknown): string {
  if (v === undefined) return ''
  if (v === null) return 'null'
  if (typeof v === 'string') return v
  if (typeof v === 'number')
    return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)))
  return JSON.stringify(v)
}

/** Numbers compare as numbers, everything else as text; "~" is "contains". A missing value fails. */
export function matches(value: unknown, where: Where): boolean {
  if (value === undefined) return where.op === '!='
  const a = asNumber(value)
  const b = asNumber(where.value)
  const cmp = a !== undefined && b !== undefined ? a - b : display(value).localeCompare(where.value)
  switch (where.op) {
    case '<':
      return cmp < 0
    case '<=':
      return cmp <= 0
    case '>':
      return cmp > 0
    case '>=':
      return cmp >= 0
    case '=':
      return cmp === 0
    case '!=':
      return cmp !== 0
    case '~':
      return display(value).includes(where.value)
  }
}

export interface QueryOptions {
  /** Name (or path) prefix. */
  prefix?: string | undefined
  kind?: string | undefined
  where?: readonly Where[] | undefined
  /** Sort by this field (missing values last). @default @created */
  sort?: Field | undefined
  descending?: boolean | undefined
  /** Extra columns to compute. */
  columns?: readonly Field[] | undefined
  limit?: number | undefined
}

export interface QueryRow {
  exp: Experiment
  /** Values of `columns` (and of the sort field), by label. */
  values: Record<string, unknown>
}

function compareValues(a: unknown, b: unknown): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? 1 : -1
  const x = asNumber(a)
  const y = asNumber(b)
  if (x !== undefined && y !== undefined) return x - y
  return display(a).localeCompare(display(b))
}

/** Filters and sorts experiments; logs are read only when a metric field is used. */
export async function queryExperiments(
  experiments: readonly Experiment[],
  options: QueryOptions = {},
): Promise<QueryRow[]> {
  const fields = [
    ...(options.where ?? []).map((w) => w.field),
    ...(options.columns ?? []),
    ...(options.sort ? [options.sort] : []),
  ]
  const needLogs = fields.some((f) => f.kind === 'metric')
  const rows: QueryRow[] = []
  for (const exp of experiments) {
    if (
      options.prefix &&
      !(exp.name ?? '').startsWith(options.prefix) &&
      !exp.path.startsWith(options.prefix)
    )
      continue
    if (options.kind !== undefined && exp.meta.kind !== options.kind) continue
    const events = needLogs ? (await readAllLogs(exp.dir)).events : undefined
    if (!(options.where ?? []).every((w) => matches(fieldValue(exp, w.field, events), w))) continue
    const values: Record<string, unknown> = {}
    for (const f of [...(options.columns ?? []), ...(options.sort ? [options.sort] : [])]) {
      values[fieldLabel(f)] = fieldValue(exp, f, events)
    }
    rows.push({ exp, values })
  }
  const sort = options.sort
  const key = (r: QueryRow) => (sort ? r.values[fieldLabel(sort)] : r.exp.meta.createdAt)
  rows.sort((x, y) => {
    const c = compareValues(key(x), key(y))
    if (c === 0) return x.exp.path < y.exp.path ? -1 : 1
    const missing = key(x) === undefined || key(y) === undefined
    return options.descending && !missing ? -c : c
  })
  return options.limit === undefined ? rows : rows.slice(0, options.limit)
}
