/** Units a result can have. Throughputs are in MB/s with MB = 10^6 bytes, as in measurements.md. */
export type Unit = 'MB/s' | 's' | 'ms' | 'req/s' | 'MiB' | 'B' | 'x'

/** A threshold from an issue. `on: 'ratio'` compares the row's `ratioTo.value` instead of its value. */
export interface Target {
  on: 'value' | 'ratio'
  op: '>=' | '<=' | '<' | '>'
  threshold: number
  /** How people read it: "≥ 600 MB/s", "≥ 5× faster". */
  text: string
  /** Where it comes from: "issue 2". */
  source: string
}

/**
 * One measured figure. `value` is the median of `runs`, or null when the subject could not be
 * measured (a peer that is not installed): never a made-up number.
 */
export interface ResultRow {
  scenario: string
  subject: string
  metric: string
  value: number | null
  unit: Unit
  runs: number[]
  /**
   * How the scenario's reference subject (usually mlvc) compares to this row: `value` > 1 means
   * the reference is better (faster, smaller) by that factor.
   */
  ratioTo?: { subject: string; value: number }
  target?: Target
  note?: string
}

export type Status = 'PASS' | 'FAIL' | 'n/a' | ''

/** The options every scenario sees, parsed from the command line. */
export interface BenchOptions {
  /** Size of the main data file in bytes. @default 1 GiB */
  size: number
  /** Sizes the rss scenario compares. @default [size, 4 GiB]; with --quick [size, 4 × size] */
  rssSizes: number[]
  /** Timed runs per subject. @default 3 */
  runs: number
  /** Untimed runs before them. @default 1 */
  warmup: number
  /** Peers to run: any of git-lfs, git-annex, git. @default all */
  peers: PeerName[]
  quick: boolean
}

export type PeerName = 'git-lfs' | 'git-annex' | 'git'
