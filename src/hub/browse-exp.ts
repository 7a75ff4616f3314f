import {
  type DbxObject,
  dbxNumber,
  flattenParams,
  type LogEvent,
  metricSeries,
  numericKeys,
  parseDbxJson,
  parseLog,
} from '../experiments/index.ts'
import { readObjects } from '../git/index.ts'
import { listFiles, type TreeEntry } from './browse-git.ts'
import { HubHttpError } from './http.ts'

/**
 * Experiments committed to a hub repository: dbx experiment repositories (a folder with `.dbx/`)
 * whose experiment folders (`<name>/<id>/meta.json`, `*log.jsonl`) are in the commit. Read from Git
 * at any revision, so a branch's runs are what its commit holds.
 */
export interface RunSummary {
  id: string
  name: string
  kind: string
  /** The experiment's folder in the repository. */
  path: string
  createdAt: string | null
  /** Flattened: `{"opt": {"lr": 0.1}}` → `opt.lr`. */
  params: Record<string, string | number | boolean | null>
  /** The last value of every numeric metric key, by `stream:key` ("" stream: `key`). */
  metrics: Record<string, number>
  /** Points logged (all keys). */
  points: number
}

interface RunFiles {
  dir: string
  meta: TreeEntry
  logs: TreeEntry[]
}

/** Experiment folders: a meta.json under a folder that holds `.dbx/`. */
function runFolders(files: readonly TreeEntry[]): RunFiles[] {
  const roots = new Set<string>()
  for (const f of files) {
    const at = f.path.indexOf('.dbx/')
    if (at === 0 || (at > 0 && f.path[at - 1] === '/')) roots.add(f.path.slice(0, at))
  }
  const byDir = new Map<string, RunFiles>()
  for (const f of files) {
    const dir = f.path.slice(0, f.path.length - f.name.length - 1)
    const root = [...roots].find((r) => f.path.startsWith(r) && !f.path.startsWith(`${r}.dbx/`))
    if (root === undefined) continue
    if (f.name === 'meta.json') byDir.set(dir, { dir, meta: f, logs: byDir.get(dir)?.logs ?? [] })
    else if (f.name.endsWith('log.jsonl')) {
      const run = byDir.get(dir) ?? { dir, meta: undefined as unknown as TreeEntry, logs: [] }
      run.logs.push(f)
      byDir.set(dir, run)
    }
  }
  return [...byDir.values()].filter((r) => r.meta !== undefined)
}

function streamOf(name: string): string {
  return name === 'log.jsonl' ? '' : name.slice(0, -'.log.jsonl'.length)
}

const text = (data: Map<string, Buffer>, sha: string) => data.get(sha)?.toString('utf8') ?? ''

function metaOf(raw: string, path: string): DbxObject {
  try {
    const value = parseDbxJson(raw)
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as DbxObject
  } catch {
    // A run whose meta.json does not parse is shown by its folder alone.
  }
  return { id: path.split('/').at(-1) ?? path }
}

function flatParams(meta: DbxObject): RunSummary['params'] {
  const params = meta.params
  if (!params || typeof params !== 'object' || Array.isArray(params)) return {}
  const out: RunSummary['params'] = {}
  for (const [k, v] of Object.entries(flattenParams(params as DbxObject))) {
    out[k] =
      typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string' || v === null
        ? v
        : JSON.stringify(v)
  }
  return out
}

/** The last value of each numeric key of a stream's events. */
function lastValues(events: readonly LogEvent[], stream: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const e of events)
    for (const [k, v] of Object.entries(e.values)) {
      const n = dbxNumber(v)
      if (n !== undefined && k !== 'event') out[stream ? `${stream}:${k}` : k] = n
    }
  return out
}

async function readRuns(gitDir: string, commit: string) {
  const runs = runFolders(await listFiles(gitDir, commit))
  const shas = runs.flatMap((r) => [r.meta.sha, ...r.logs.map((l) => l.sha)])
  const data = await readObjects(gitDir, [...new Set(shas)])
  return runs.map((run) => {
    const meta = metaOf(text(data, run.meta.sha), run.dir)
    const events = run.logs.flatMap(
      (log) => parseLog(text(data, log.sha), log.path, streamOf(log.name)).events,
    )
    return { run, meta, events }
  })
}

/** Every run committed at `commit`, newest first. */
export async function listRuns(gitDir: string, commit: string): Promise<RunSummary[]> {
  const runs = (await readRuns(gitDir, commit)).map(({ run, meta, events }) => {
    const metrics: Record<string, number> = {}
    for (const stream of new Set(events.map((e) => e.stream)))
      Object.assign(
        metrics,
        lastValues(
          events.filter((e) => e.stream === stream),
          stream,
        ),
      )
    return {
      id: String(meta.id ?? run.dir),
      name: typeof meta.name === 'string' ? meta.name : '',
      kind: typeof meta.kind === 'string' ? meta.kind : '',
      path: run.dir,
      createdAt: typeof meta.createdAt === 'string' ? meta.createdAt : null,
      params: flatParams(meta),
      metrics,
      points: events.length,
    }
  })
  return runs.sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''))
}

export interface Curves {
  /** Every numeric metric key the runs logged (`stream:key` for streams other than log.jsonl). */
  keys: string[]
  /** Bucket centres: one x axis shared by every run (what a chart of many runs needs). */
  x: number[]
  /** Per run: the mean of its points in each bucket (null where it has none). */
  runs: Array<{ id: string; y: Array<number | null>; total: number }>
}

/**
 * Puts every run's points on one x axis of `buckets` equal buckets between the smallest and
 * largest x of all runs: 100 runs × 10,000 points become 100 × `buckets` values, aligned, which a
 * chart draws at once. A bucket's value is the mean of the run's points in it.
 */
export function alignCurves(
  series: ReadonlyArray<{ id: string; x: readonly number[]; y: readonly number[] }>,
  buckets: number,
): Pick<Curves, 'x' | 'runs'> {
  let lo = Number.POSITIVE_INFINITY
  let hi = Number.NEGATIVE_INFINITY
  for (const s of series)
    for (const v of s.x) {
      if (v < lo) lo = v
      if (v > hi) hi = v
    }
  if (!Number.isFinite(lo))
    return { x: [], runs: series.map((s) => ({ id: s.id, y: [], total: 0 })) }
  const distinct = new Set(series.flatMap((s) => s.x))
  // Few distinct x (epochs, shared steps): no buckets needed, every x is kept exactly.
  if (distinct.size <= buckets) {
    const x = [...distinct].sort((a, b) => a - b)
    const at = new Map(x.map((v, i) => [v, i]))
    return {
      x,
      runs: series.map((s) => {
        const y: Array<number | null> = x.map(() => null)
        s.x.forEach((v, i) => {
          y[at.get(v) as number] = s.y[i] as number
        })
        return { id: s.id, y, total: s.x.length }
      }),
    }
  }
  const width = (hi - lo) / buckets
  const x = Array.from({ length: buckets }, (_, i) => lo + (i + 0.5) * width)
  const runs = series.map((s) => {
    const sum = new Float64Array(buckets)
    const count = new Uint32Array(buckets)
    s.x.forEach((v, i) => {
      const b = Math.min(buckets - 1, Math.floor((v - lo) / width))
      sum[b] = (sum[b] as number) + (s.y[i] as number)
      count[b] = (count[b] as number) + 1
    })
    const y = Array.from(sum, (v, b) =>
      (count[b] as number) > 0 ? v / (count[b] as number) : null,
    )
    return { id: s.id, y, total: s.x.length }
  })
  return { x, runs }
}

/** One metric's curves for the runs `ids` (all when empty), aligned on `points` buckets. */
export async function runCurves(
  gitDir: string,
  commit: string,
  options: { ids: readonly string[]; key: string; points: number },
): Promise<Curves> {
  const [stream, key] = options.key.includes(':')
    ? (options.key.split(':', 2) as [string, string])
    : ['', options.key]
  const runs = await readRuns(gitDir, commit)
  const keys = new Set<string>()
  const series: Array<{ id: string; x: number[]; y: number[] }> = []
  for (const { run, meta, events } of runs) {
    const id = String(meta.id ?? run.dir)
    if (options.ids.length > 0 && !options.ids.includes(id)) continue
    for (const s of new Set(events.map((e) => e.stream)))
      for (const k of numericKeys(events.filter((e) => e.stream === s)))
        keys.add(s ? `${s}:${k}` : k)
    if (!options.key) continue
    const points = metricSeries(
      events.filter((e) => e.stream === stream),
      key,
    )
    series.push({ id, x: points.map((p) => p.x), y: points.map((p) => p.y) })
  }
  const missing = options.ids.filter(
    (id) => !runs.some((r) => String(r.meta.id ?? r.run.dir) === id),
  )
  if (missing.length > 0)
    throw new HubHttpError(404, 'NOT_FOUND', `no run ${missing.join(', ')} at this revision`)
  return { keys: [...keys].sort(), ...alignCurves(series, Math.max(2, options.points)) }
}
