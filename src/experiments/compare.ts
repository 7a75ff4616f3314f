import { isDbxObject } from './dbx-json.ts'
import { readAllLogs } from './log-read.ts'
import { aggregate, metricSeries } from './metrics.ts'
import type { Experiment } from './scan.ts'

export interface ParamRow {
  key: string
  values: unknown[]
  /** Not the same in every experiment (a missing value counts as different). */
  differs: boolean
}

export interface MetricSummary {
  last: number | undefined
  min: number | undefined
  max: number | undefined
  count: number
}

export interface MetricRow {
  /** `key` or `pattern:key`. */
  metric: string
  values: MetricSummary[]
}

export interface Comparison {
  experiments: Array<{ id: string; name: string | null; path: string }>
  params: ParamRow[]
  metrics: MetricRow[]
}

/** Params flattened to dotted keys; arrays and other values kept whole. */
export function flattenParams(
  params: unknown,
  prefix = '',
  out: Record<string, unknown> = {},
): Record<string, unknown> {
  if (!isDbxObject(params)) return out
  for (const [key, value] of Object.entries(params)) {
    const name = prefix ? `${prefix}.${key}` : key
    if (isDbxObject(value) && Object.keys(value).length > 0 && value._dbx === undefined)
      flattenParams(value, name, out)
    else out[name] = value
  }
  return out
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)

/** `pattern:key` → its parts; a bare key matches every event. */
export function splitMetric(metric: string): { event: string | undefined; key: string } {
  const colon = metric.lastIndexOf(':')
  return colon < 0
    ? { event: undefined, key: metric }
    : { event: metric.slice(0, colon), key: metric.slice(colon + 1) }
}

/**
 * Params side by side (sorted, the differing ones flagged) and, for each metric, its last, lowest
 * and highest value in each experiment.
 */
export async function compareExperiments(
  experiments: readonly Experiment[],
  metrics: readonly string[] = [],
): Promise<Comparison> {
  const flat = experiments.map((e) => flattenParams(e.meta.params))
  const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort()
  const params = keys.map((key) => {
    const values = flat.map((f) => f[key])
    return { key, values, differs: values.some((v) => v === undefined || !same(v, values[0])) }
  })
  const logs =
    metrics.length > 0 ? await Promise.all(experiments.map((e) => readAllLogs(e.dir))) : []
  const rows = metrics.map((metric) => {
    const { event, key } = splitMetric(metric)
    return {
      metric,
      values: logs.map((log) => {
        const points = metricSeries(log.events, key, { event })
        return {
          last: aggregate(points, 'last'),
          min: aggregate(points, 'min'),
          max: aggregate(points, 'max'),
          count: points.length,
        }
      }),
    }
  })
  return {
    experiments: experiments.map((e) => ({ id: e.id, name: e.name, path: e.path })),
    params,
    metrics: rows,
  }
}
