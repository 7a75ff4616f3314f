import { maxOf, minOf } from '../core/index.ts'
import { dbxNumber } from './dbx-json.ts'
import type { LogEvent } from './log-read.ts'

/**
 * Whether an event name matches a pattern: "*" matches within one "/"-separated part, "**" any
 * number of parts; a pattern without wildcards also matches the events below it ("train" matches
 * "train/epoch/3").
 */
export function eventMatches(pattern: string | undefined, event: string): boolean {
  if (pattern === undefined || pattern === '' || pattern === '**') return true
  if (!pattern.includes('*')) return event === pattern || event.startsWith(`${pattern}/`)
  const source = pattern
    .split('/')
    .map((part) => (part === '**' ? '.*' : part.split('*').map(escapeRegExp).join('[^/]*')))
    .join('/')
    .replace(/\/\.\*\//g, '(?:/.*/|/)')
  return new RegExp(`^${source}$`).test(event)
}

function escapeRegExp(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')
}

export interface Point {
  x: number
  y: number
  event: string
  line: number
}

/** The last all-digit part of an event name ("train/epoch/3/end" → 3). */
function stepInName(event: string): number | undefined {
  const parts = event.split('/').filter((p) => /^\d+$/.test(p))
  const last = parts.at(-1)
  return last === undefined ? undefined : Number(last)
}

/**
 * The values of `key` in the events matching `event`, in log order, with an x for each: the value
 * of `xKey` when given; else the events' `step` value if they all have one; else the number in
 * their names if they all have one (epoch/3 → 3); else 0, 1, 2, …
 */
export function metricSeries(
  events: readonly LogEvent[],
  key: string,
  options: { event?: string | undefined; xKey?: string | undefined } = {},
): Point[] {
  const hits: Array<{ e: LogEvent; y: number }> = []
  for (const e of events) {
    const y = eventMatches(options.event, e.event) ? dbxNumber(e.values[key]) : undefined
    if (y !== undefined) hits.push({ e, y })
  }
  const xOf = chooseX(
    hits.map((h) => h.e),
    options.xKey,
  )
  return hits.map(({ e, y }, i) => ({ x: xOf(e, i), y, event: e.event, line: e.line }))
}

function chooseX(
  hits: readonly LogEvent[],
  xKey: string | undefined,
): (e: LogEvent, i: number) => number {
  if (xKey === 'index') return (_e, i) => i
  if (xKey !== undefined) return (e, i) => dbxNumber(e.values[xKey]) ?? i
  // Every hit has the x these return; the index stands in for none of them.
  if (hits.length > 0 && hits.every((e) => typeof e.values.step === 'number')) {
    return (e, i) => {
      const step = e.values.step
      return typeof step === 'number' ? step : i
    }
  }
  if (hits.length > 0 && hits.every((e) => stepInName(e.event) !== undefined)) {
    return (e, i) => stepInName(e.event) ?? i
  }
  return (_e, i) => i
}

export type Aggregate = 'last' | 'first' | 'min' | 'max' | 'count'

/** last/first of all points; min/max of the finite ones; undefined when there is none. */
export function aggregate(points: readonly Point[], how: Aggregate): number | undefined {
  if (how === 'count') return points.length
  if (how === 'last') return points.at(-1)?.y
  if (how === 'first') return points[0]?.y
  const finite = points.map((p) => p.y).filter((y) => Number.isFinite(y))
  if (finite.length === 0) return undefined
  return how === 'min' ? minOf(finite) : maxOf(finite)
}

/** Numeric keys found in the matching events, in first-seen order. */
export function numericKeys(events: readonly LogEvent[], event?: string): string[] {
  const keys = new Set<string>()
  for (const e of events) {
    if (!eventMatches(event, e.event)) continue
    for (const [k, v] of Object.entries(e.values)) if (dbxNumber(v) !== undefined) keys.add(k)
  }
  return [...keys]
}

export interface MetricTable {
  keys: string[]
  rows: Array<{
    x: number
    event: string
    stream: string
    line: number
    values: Array<number | undefined>
  }>
}

/**
 * The events matching `event` that hold any of `keys` (default: every numeric key found), one row
 * each, with the x chosen as in metricSeries.
 */
export function metricTable(
  events: readonly LogEvent[],
  options: {
    event?: string | undefined
    keys?: readonly string[] | undefined
    xKey?: string | undefined
  } = {},
): MetricTable {
  const keys =
    options.keys && options.keys.length > 0
      ? [...options.keys]
      : numericKeys(events, options.event).filter((k) => k !== options.xKey)
  const hits = events.filter(
    (e) =>
      eventMatches(options.event, e.event) &&
      keys.some((k) => dbxNumber(e.values[k]) !== undefined),
  )
  const xOf = chooseX(hits, options.xKey)
  return {
    keys,
    rows: hits.map((e, i) => ({
      x: xOf(e, i),
      event: e.event,
      stream: e.stream,
      line: e.line,
      values: keys.map((k) => dbxNumber(e.values[k])),
    })),
  }
}
