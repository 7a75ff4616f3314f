// The benchmark harness: `npm run bench -- [options]` (see args.ts for the options). It runs the
// selected scenarios, prints their tables, and merges them into BENCHMARKS.md.
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { maxOf } from '../src/core/index.ts'
import { type CliArgs, parseCli, USAGE } from './args.ts'
import type { BenchContext, Scenario } from './context.ts'
import { describeMachine, loadAverage, machineLines } from './machine.ts'
import type { RunInfo, SectionInput } from './markdown.ts'
import { renderScenarioText, writeReport } from './report.ts'
import { findScenarios, SCENARIOS } from './scenarios/index.ts'
import { formatSize } from './sizes.ts'
import { tally } from './targets.ts'
import { findTools } from './tools.ts'
import type { BenchOptions } from './types.ts'
import { openWorkspace } from './workspace.ts'

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`)
}

/** The folder of mlvc's package.json, found upwards from this file (dist/bench/ or bench/). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'mlvc')
      return dir
    const parent = dirname(dir)
    if (parent === dir) throw new Error('cannot find the mlvc package root')
    dir = parent
  }
}

function commandLine(argv: string[]): string {
  const quoted = argv.map((a) => (/^[\w,./=-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`))
  return ['npm run bench', ...(quoted.length ? ['--', ...quoted] : [])].join(' ')
}

/** Scenarios that also measure the large size (4 GiB; --quick: 4 × the size). */
const LARGE_SIZE_USERS = ['rss', 'git-checkout', 'ckpt-rss']

function describeSettings(options: BenchOptions, scenarios: Scenario[]): string {
  const settings = [
    `size ${formatSize(options.size)}`,
    `${options.runs} timed runs after ${options.warmup} warm-up`,
    `peers ${options.peers.length ? options.peers.join(', ') : 'none'}`,
  ]
  if (scenarios.some((s) => LARGE_SIZE_USERS.includes(s.name))) {
    settings.push(`large sizes ${options.rssSizes.map(formatSize).join(' and ')}`)
  }
  return settings.join('; ')
}

async function runScenario(ctx: BenchContext, scenario: Scenario): Promise<SectionInput> {
  const { name, title, issue, about } = scenario
  log(`scenario ${name}`)
  try {
    return { name, title, issue, about, rows: await scenario.run(ctx) }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    log(`scenario ${name} failed: ${message}`)
    return { name, title, issue, about, rows: [], error: message }
  }
}

async function bench(args: CliArgs, argv: string[]): Promise<number> {
  const scenarios = findScenarios(args.only)
  const root = packageRoot()
  const tools = findTools(root, log)
  for (const built of [tools.mlvcCli, tools.probe]) {
    if (!existsSync(built)) throw new Error(`${built} is missing: run npm run build first`)
  }
  const work = await openWorkspace(resolve(args.work ?? join(root, '.bench')))
  const machine = describeMachine(work.root, tools.versions)
  const started = { date: new Date().toISOString(), loadBefore: loadAverage() }
  for (const line of machineLines(machine)) log(line)
  log(
    `load average ${started.loadBefore}; size ${formatSize(args.options.size)}; ${args.options.runs} runs`,
  )
  const ctx: BenchContext = { options: args.options, tools, work, log }
  const sections: SectionInput[] = []
  const out = resolve(args.out ?? join(root, 'BENCHMARKS.md'))
  const run = (): RunInfo => ({
    ...started,
    command: commandLine(argv),
    settings: describeSettings(args.options, scenarios),
    loadAfter: loadAverage(),
    machine,
  })
  try {
    for (const scenario of scenarios) {
      const section = await runScenario(ctx, scenario)
      sections.push(section)
      process.stdout.write(`\n${renderScenarioText(section)}`)
      // After every scenario: a run cut short (a full disk, Ctrl-C) keeps what it measured.
      if (args.write) await writeReport(out, sections, SCENARIOS, run())
    }
  } finally {
    await work.dispose()
  }
  const counts = tally(sections.flatMap((s) => s.rows))
  log(`targets: ${counts.pass} PASS, ${counts.fail} FAIL, ${counts.na} not measured`)
  if (args.write) log(`wrote ${out}`)
  return sections.some((s) => s.error) ? 1 : 0
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2)
  let args: CliArgs
  try {
    args = parseCli(argv)
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n${USAGE}\n`)
    return 2
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  if (args.list) {
    const width = maxOf(SCENARIOS.map((s) => s.name.length))
    for (const s of SCENARIOS)
      process.stdout.write(`${s.name.padEnd(width)}  ${s.title} (issue ${s.issue})\n`)
    return 0
  }
  return bench(args, argv)
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = 1
  },
)
