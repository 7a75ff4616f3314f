import { join } from 'node:path'
import type { BenchContext } from './context.ts'
import { syncDisks, warmFile } from './fsutil.ts'
import { type Command, runTimed, type Sample } from './proc.ts'

/** One prepared run: the command to time, and how to undo what setup made. */
export interface Trial {
  command: Command
  /** Files of this run to read into the page cache (the input placed in a work tree). */
  warm?: string[]
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
    return await runTimed(trial.command, { timeBin: ctx.tools.time, reportPath })
  } finally {
    await trial.cleanup?.()
  }
}

/**
 * Runs a command `warmup` times untimed and `runs` times timed, each on a fresh setup, with the
 * inputs in the page cache and the previous run's writes flushed (`sync`) before the clock starts.
 */
export async function measureSeries(ctx: BenchContext, spec: SeriesSpec): Promise<Series> {
  const runs = spec.runs ?? ctx.options.runs
  const warmup = spec.warmup ?? ctx.options.warmup
  for (let i = 0; i < warmup; i++) {
    ctx.log(`${spec.label}: warm-up ${i + 1}/${warmup}`)
    await runTrial(ctx, spec)
  }
  const samples: Sample[] = []
  for (let i = 0; i < runs; i++) {
    const sample = await runTrial(ctx, spec)
    samples.push(sample)
    const rss =
      sample.peakRssKiB === null ? '' : `, peak RSS ${Math.round(sample.peakRssKiB / 1024)} MiB`
    ctx.log(`${spec.label}: run ${i + 1}/${runs}: ${sample.seconds.toFixed(2)} s${rss}`)
  }
  const peakRssMiB = samples.flatMap((s) => (s.peakRssKiB === null ? [] : [s.peakRssKiB / 1024]))
  return { seconds: samples.map((s) => s.seconds), peakRssMiB, samples }
}
