import { splitMetric } from './compare.ts'
import { readAllLogs } from './log-read.ts'
import { metricSeries, type Point } from './metrics.ts'
import type { Experiment } from './scan.ts'
import { renderLineChart } from './svg.ts'

export interface PlotOptions {
  /** `key`, or `pattern:key` to take it only from matching events. */
  metric: string
  /** X values: a log key, or "index". @default step, else the number in the event name, else index */
  x?: string | undefined
  logY?: boolean | undefined
  title?: string | undefined
  width?: number | undefined
  height?: number | undefined
}

export interface Plot {
  svg: string
  series: Array<{ id: string; label: string; points: Point[] }>
}

/** The label of an experiment in a legend: name and id, or the id alone. */
export function experimentLabel(exp: Experiment): string {
  return exp.name ? `${exp.name} (${exp.id})` : exp.id
}

/** An SVG line chart of one metric over steps, one line per experiment. */
export async function plotMetric(
  experiments: readonly Experiment[],
  options: PlotOptions,
): Promise<Plot> {
  const { event, key } = splitMetric(options.metric)
  const series = []
  for (const exp of experiments) {
    const { events } = await readAllLogs(exp.dir)
    series.push({
      id: exp.id,
      label: experimentLabel(exp),
      points: metricSeries(events, key, { event, xKey: options.x }),
    })
  }
  const svg = renderLineChart(
    series.map((s) => ({ label: s.label, points: s.points.map((p) => [p.x, p.y] as const) })),
    {
      title: options.title ?? options.metric,
      xLabel: options.x ?? 'step',
      yLabel: key,
      logY: options.logY,
      width: options.width,
      height: options.height,
    },
  )
  return { svg, series }
}
