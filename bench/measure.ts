import { join } from 'node:path'
import type { BenchContext } from './context.ts'
import { syncDisks, warmFile } from './fsutil.ts'
import { type Command, runTimed, type Sample } from './proc.ts'

/** One prepared run: the command to time, and how to undo what setup made. */
export interface Trial {
  command: Command
  /** Files of this run to read into the page cache (the input placed in a work tree). */
  warm?: string[]
  /** Checks the timed command's result (its stdout); throws when it is wrong. */
  check?: (stdout: string) => void | Promise<void>
  cleanup?: () => Promise<void>
}

export interface SeriesSpec {
  /** For the log: "mlvc put". */
  label: string
  /** Untimed: makes a fresh store or repository for one run and returns the command to time. */
  setup: () => Promise<Trial>
  /** Files read into the page cache before each timed run. */
  warm?: string[]
  /** @default ctx.options.runs */
  runs?: number
  /** @default ctx.options.warmup */
  warmup?: number
}

export interface Series {
  seconds: number[]
  /** Empty when GNU time is missing. */
  peakRssMiB: number[]
  samples: Sample[]
}

async function runTrial(ctx: BenchContext, spec: SeriesSpec): Promise<Sample> {
  const trial = await spec.setup()
  try {
    for (const file of [...(spec.warm ?? []), ...(trial.warm ?? [])]) warmFile(file)
    await syncDisks()
    globalThis.gc?.()
    const reportPath = join(ctx.work.run, 'time-report.txt')
    const sample = await runTimed(trial.command, { timeBin: ctx.tools.time, reportPath })
    await trial.check?.(sample.stdout)
    return sample
  } finally {
    await trial.cleanup?.()
  }
}

function logSample(ctx: BenchContext, label: string, run: string, sample: Sample): void {
  const rss =
    sample.peakRssKiB === null ? '' : `, peak RSS ${Math.round(sample.peakRssKiB / 1024)} MiB`
  ctx.log(`${label}: run ${run}: ${sample.seconds.toFixed(2)} s${rss}`)
}

function seriesOf(samples: Sample[]): Series {
  const peakRssMiB = samples.flatMap((s) => (s.peakRssKiB === null ? [] : [s.peakRssKiB / 1024]))
  return { seconds: samples.map((s) => s.seconds), peakRssMiB, samples }
}

async function warmUp(ctx: BenchContext, spec: SeriesSpec): Promise<void> {
  const warmup = spec.warmup ?? ctx.options.warmup
  for (let i = 0; i < warmup; i++) {
    ctx.log(`${spec.label}: warm-up ${i + 1}/${warmup}`)
    await runTrial(ctx, spec)
  }
}

/**
 * Runs a command `warmup` times untimed and `runs` times timed, each on a fresh setup, with the
 * inputs in the page cache and the previous run's writes flushed (`sync`) before the clock starts.
 */
export async function measureSeries(ctx: BenchContext, spec: SeriesSpec): Promise<Series> {
  const runs = spec.runs ?? ctx.options.runs
  await warmUp(ctx, spec)
  const samples: Sample[] = []
  for (let i = 0; i < runs; i++) {
    const sample = await runTrial(ctx, spec)
    samples.push(sample)
    logSample(ctx, spec.label, `${i + 1}/${runs}`, sample)
  }
  return seriesOf(samples)
}

/**
 * Several series measured like `measureSeries`, whose timed runs alternate (a1 b1 a2 b2 …) after
 * all the warm-ups, so that the machine's drift (another process, the disk flushing) falls on each
 * alike: for figures that are compared with each other. Every spec runs `--runs` times.
 */
export async function measureInterleaved(
  ctx: BenchContext,
  specs: readonly SeriesSpec[],
): Promise<Series[]> {
  for (const spec of specs) await warmUp(ctx, spec)
  const runs = ctx.options.runs
  const samples: Sample[][] = specs.map(() => [])
  for (let i = 0; i < runs; i++) {
    for (const [k, spec] of specs.entries()) {
      const sample = await runTrial(ctx, spec)
      samples[k]?.push(sample)
      logSample(ctx, spec.label, `${i + 1}/${runs}`, sample)
    }
  }
  return samples.map(seriesOf)
}

/**
 * Seconds per byte of `a` over seconds per byte of `b`, run by run (from `measureInterleaved`, so
 * each pair saw the same machine): above 1, `a` is slower.
 */
export function perBytePairs(a: Series, aBytes: number, b: Series, bBytes: number): number[] {
  return a.seconds.map((s, i) => s / aBytes / ((b.seconds[i] as number) / bBytes))
}
