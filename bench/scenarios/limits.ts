import type { BenchContext } from '../context.ts'
import { measureSeries } from '../measure.ts'
import { row, type Subject } from '../rows.ts'
import { throughput } from '../stats.ts'
import type { ResultRow } from '../types.ts'

export const READ_SUBJECT = 'limit: read (readSync 8 MiB)'
export const SHA_SUBJECT = 'limit: sha256 (node:crypto, 1 thread)'

/**
 * The machine's limits on `file`, each in its own process (dist/bench/probe.js), timed inside
 * the process: reading it from the page cache, and hashing it with node:crypto sha256.
 */
export async function limitRows(
  ctx: BenchContext,
  scenario: string,
  file: string,
): Promise<ResultRow[]> {
  const rows: ResultRow[] = []
  const probes: Array<[string, Subject]> = [
    ['read', { scenario, subject: READ_SUBJECT }],
    ['sha256', { scenario, subject: SHA_SUBJECT }],
  ]
  for (const [kind, who] of probes) {
    const series = await measureSeries(ctx, {
      label: who.subject,
      warm: [file],
      setup: async () => ({
        command: { file: ctx.tools.node, args: [ctx.tools.probe, kind, file] },
      }),
    })
    const mbs = series.samples.map((s) => {
      const out = JSON.parse(s.stdout) as { seconds: number; bytes: number }
      return throughput(out.bytes, out.seconds)
    })
    rows.push(row(who, 'throughput', 'MB/s', mbs))
  }
  return rows
}
