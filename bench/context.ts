import type { Tools } from './tools.ts'
import type { BenchOptions, ResultRow } from './types.ts'
import type { Workspace } from './workspace.ts'

/** What a scenario gets from the harness. */
export interface BenchContext {
  options: BenchOptions
  tools: Tools
  work: Workspace
  /** Progress for people, on stderr. */
  log(message: string): void
}

/**
 * One benchmark. Scenarios are registered in `scenarios/index.ts`; their rows are printed and
 * merged into BENCHMARKS.md under the scenario's name, so a later run of other scenarios keeps
 * them.
 */
export interface Scenario {
  /** Stable id, used by --only and as the BENCHMARKS.md section key. */
  name: string
  /** One line for headings. */
  title: string
  /** The issue whose targets it checks. */
  issue: number
  /** Markdown: what is measured and how, for BENCHMARKS.md. */
  about: string
  run(ctx: BenchContext): Promise<ResultRow[]>
}
