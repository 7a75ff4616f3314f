import {
  display,
  type Experiment,
  type Field,
  fieldLabel,
  fieldValue,
  flattenParams,
  loadExperiments,
  parseField,
  parseWhere,
  queryExperiments,
} from '../../experiments/index.ts'
import type { CommandResult, Io } from '../io.ts'
import { openExpContext, type RepoOption, warnProblems } from './context.ts'
import { renderTable } from './table.ts'

export interface ListOptions extends RepoOption {
  kind?: string | undefined
  where?: string[] | undefined
  sort?: string | undefined
  desc?: boolean | undefined
  column?: string[] | undefined
  limit?: string | undefined
}

/** Params whose values differ among the experiments listed: the ones worth a column. */
function varyingParams(exps: readonly Experiment[], limit: number): Field[] {
  const flat = exps.map((e) => flattenParams(e.meta.params))
  const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort()
  return keys
    .filter((k) => new Set(flat.map((f) => JSON.stringify(f[k]))).size > 1)
    .slice(0, limit)
    .map((k) => parseField(k))
}

function parseSort(
  sort: string | undefined,
  desc: boolean | undefined,
): { field?: Field; descending: boolean } {
  if (!sort) return { descending: desc === true }
  const descending = sort.startsWith('-') !== (desc === true)
  return { field: parseField(sort.replace(/^-/, '')), descending }
}

/** Experiments as a table: id, name, kind, created, params that vary, requested columns. */
export async function expList(
  io: Io,
  [prefix]: [string | undefined],
  options: ListOptions,
): Promise<CommandResult> {
  const { repo } = await openExpContext(io, options)
  const { experiments, problems } = await loadExperiments(repo)
  warnProblems(io, problems)
  const sort = parseSort(options.sort, options.desc)
  const extra = (options.column ?? []).map(parseField)
  const rows = await queryExperiments(experiments, {
    prefix,
    kind: options.kind,
    where: (options.where ?? []).map(parseWhere),
    sort: sort.field,
    descending: sort.descending,
    columns: extra,
    limit: options.limit === undefined ? undefined : Number(options.limit),
  })
  const params = varyingParams(
    rows.map((r) => r.exp),
    4,
  )
  const shown = new Set([...params, ...extra].map(fieldLabel))
  const sortColumn =
    sort.field && sort.field.kind !== 'meta' && !shown.has(fieldLabel(sort.field))
      ? [sort.field]
      : []
  const columns = [...params, ...extra, ...sortColumn]
  const labels = columns.map(fieldLabel)
  const table = rows.map((r) => [
    r.exp.id,
    r.exp.name ?? '',
    r.exp.meta.kind,
    r.exp.meta.createdAt.slice(0, 16).replace('T', ' '),
    ...columns.map((f) => {
      const label = fieldLabel(f)
      return display(label in r.values ? r.values[label] : fieldValue(r.exp, f))
    }),
  ])
  const data = rows.map((r) => ({
    id: r.exp.id,
    name: r.exp.name,
    path: r.exp.path,
    kind: r.exp.meta.kind,
    createdAt: r.exp.meta.createdAt,
    hostname: r.exp.meta.hostname ?? null,
    params: r.exp.meta.params,
    values: r.values,
  }))
  const text =
    rows.length === 0
      ? 'no experiments'
      : renderTable(['id', 'name', 'kind', 'created', ...labels], table)
  return { data, text }
}
