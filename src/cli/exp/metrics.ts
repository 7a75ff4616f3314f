import { resolve } from 'node:path'
import { MlvcError, writeFileAtomic } from '../../core/index.ts'
import {
  type Experiment,
  loadExperiments,
  metricTable,
  parseWhere,
  pickExperiment,
  plotMetric,
  queryExperiments,
  readAllLogs,
} from '../../experiments/index.ts'
import type { CommandResult, Io } from '../io.ts'
import { openExpContext, type RepoOption, warnProblems } from './context.ts'
import { formatNumber, renderTable } from './table.ts'

export interface MetricsOptions extends RepoOption {
  event?: string | undefined
  key?: string[] | undefined
  x?: string | undefined
  csv?: boolean | undefined
}

function csvCell(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

/** The series of one experiment's metrics, as a table or CSV. */
export async function expMetrics(
  io: Io,
  [id]: [string],
  options: MetricsOptions,
): Promise<CommandResult> {
  const { repo } = await openExpContext(io, options)
  const exp = pickExperiment((await loadExperiments(repo)).experiments, id)
  const logs = await readAllLogs(exp.dir)
  warnProblems(io, logs.problems)
  const table = metricTable(logs.events, {
    event: options.event,
    keys: options.key,
    xKey: options.x,
  })
  const xName = options.x ?? 'step'
  const header = [xName, 'event', ...table.keys]
  const rows = table.rows.map((r) => [formatNumber(r.x), r.event, ...r.values.map(formatNumber)])
  const text = options.csv
    ? [header, ...rows].map((row) => row.map(csvCell).join(',')).join('\n')
    : rows.length === 0
      ? `no events${options.event ? ` matching ${options.event}` : ''} with numeric values`
      : renderTable(header, rows, { right: new Set([0, ...table.keys.map((_, i) => i + 2)]) })
  const data = { id: exp.id, keys: table.keys, x: xName, rows: table.rows }
  return { data, text }
}

export interface PlotCliOptions extends RepoOption {
  metric: string
  output?: string | undefined
  x?: string | undefined
  logY?: boolean | undefined
  title?: string | undefined
  where?: string[] | undefined
  width?: string | undefined
  height?: string | undefined
}

async function choose(
  repoExps: readonly Experiment[],
  ids: readonly string[],
  options: PlotCliOptions,
): Promise<Experiment[]> {
  if (ids.length > 0) return ids.map((id) => pickExperiment(repoExps, id))
  const rows = await queryExperiments(repoExps, { where: (options.where ?? []).map(parseWhere) })
  return rows.map((r) => r.exp)
}

/** An SVG chart of one metric over steps for several experiments, written to a file. */
export async function expPlot(
  io: Io,
  [ids]: [string[]],
  options: PlotCliOptions,
): Promise<CommandResult> {
  const { repo } = await openExpContext(io, options)
  const { experiments, problems } = await loadExperiments(repo)
  warnProblems(io, problems)
  const chosen = await choose(experiments, ids, options)
  if (chosen.length === 0) throw new MlvcError('NOT_FOUND', 'no experiments to plot')
  const plot = await plotMetric(chosen, {
    metric: options.metric,
    x: options.x,
    logY: options.logY,
    title: options.title,
    width: options.width === undefined ? undefined : Number(options.width),
    height: options.height === undefined ? undefined : Number(options.height),
  })
  const out = resolve(io.cwd, options.output ?? `${options.metric.replace(/[^\w.-]+/g, '_')}.svg`)
  await writeFileAtomic(out, plot.svg, { fsync: false, replace: 'file' })
  const points = plot.series.reduce((n, s) => n + s.points.length, 0)
  const empty = plot.series.filter((s) => s.points.length === 0).map((s) => s.id)
  if (empty.length > 0) io.warn(`warning: no ${options.metric} values in ${empty.join(', ')}`)
  return {
    data: {
      output: out,
      series: plot.series.map((s) => ({ id: s.id, label: s.label, points: s.points.length })),
    },
    text: `wrote ${out} (${chosen.length} experiments, ${points} points)`,
  }
}
