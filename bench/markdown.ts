import { COLUMNS, renderMarkdownTable, rowCells } from './format.ts'
import { type Machine, machineLines } from './machine.ts'
import { tally } from './targets.ts'
import type { ResultRow } from './types.ts'

/** What identifies a run in the report. */
export interface RunInfo {
  /** ISO 8601. */
  date: string
  /** The exact command line, e.g. "npm run bench -- --only put". */
  command: string
  /** The options in effect, defaults included: "size 1 GiB, 3 timed runs after 1 warm-up". */
  settings: string
  /** Load averages when the run started and ended. */
  loadBefore: string
  loadAfter: string
  machine: Machine
}

export interface SectionInput {
  name: string
  title: string
  issue: number
  about: string
  rows: ResultRow[]
  /** Set when the scenario stopped with an error. */
  error?: string
}

const BEGIN = (name: string) => `<!-- bench:begin ${name} -->`
const END = (name: string) => `<!-- bench:end ${name} -->`

function formatDate(iso: string): string {
  return `${iso.slice(0, 16).replace('T', ' ')} UTC`
}

function runLines(run: RunInfo): string[] {
  return [
    `Measured ${formatDate(run.date)} with \`${run.command}\` (${run.settings}); load average ${run.loadBefore} at the start, ${run.loadAfter} at the end.`,
    ...machineLines(run.machine).map((line) => `${line}.`),
  ]
}

/** One scenario's section, between markers that let later runs replace it alone. */
export function renderSection(section: SectionInput, run: RunInfo): string {
  const counts = tally(section.rows)
  const table = renderMarkdownTable(COLUMNS, section.rows.map(rowCells))
  const lines = [
    BEGIN(section.name),
    `## ${section.name}: ${section.title} (issue ${section.issue})`,
    '',
    runLines(run).join('\n'),
    '',
    section.about,
    '',
    table,
    '',
    `Targets: ${counts.pass} PASS, ${counts.fail} FAIL, ${counts.na} not measured.`,
  ]
  if (section.error) lines.push('', `**The scenario stopped with an error:** ${section.error}`)
  lines.push(END(section.name))
  return lines.join('\n')
}

/** The sections of an existing BENCHMARKS.md, by scenario name, in file order. */
export function parseSections(text: string): Map<string, string> {
  const sections = new Map<string, string>()
  const pattern = /<!-- bench:begin (\S+) -->[\s\S]*?<!-- bench:end \1 -->/g
  for (const match of text.matchAll(pattern)) sections.set(match[1] as string, match[0])
  return sections
}

export const HOW_TO_READ = [
  'How to read this: every figure comes from real processes on the machine named in its section,',
  'run one after another in the same harness run, on the same generated input file, read from the',
  'page cache. "median" is the median of the timed runs (after untimed warm-up runs), "range" is',
  'their minimum–maximum, "runs" their number. Throughput is MB/s with MB = 10^6 bytes, sizes are',
  'binary (MiB, GiB). "vs mlvc" says how many times better mlvc is than that row (faster, or less',
  'memory or storage): 7.00× means seven times; below 1.00× the row beats mlvc (the machine limits',
  'always should). Peak RSS is the largest single process (GNU time `%M`, which covers the children',
  'a command waits for, such as git filter processes). PASS/FAIL compare the median with the',
  'issue\'s target. A peer that is not installed reads "not available", never a guessed number.',
  'This is a 2-vCPU VM: runs often spread by ±20%, and other work on the machine shows in the load',
  'averages quoted in each section.',
].join('\n')

/**
 * The whole document: a fresh preamble, then this run's sections in `order`, keeping every section
 * of `existing` that this run did not replace (partial runs never erase figures).
 */
export function mergeDocument(
  existing: string | undefined,
  fresh: Map<string, string>,
  order: readonly string[],
  run: RunInfo,
): string {
  const sections = new Map(existing ? parseSections(existing) : [])
  for (const [name, text] of fresh) sections.set(name, text)
  const names = [...order.filter((n) => sections.has(n))]
  for (const name of sections.keys()) if (!names.includes(name)) names.push(name)
  const preamble = [
    '# Benchmarks',
    '',
    '<!-- Written by `npm run bench` (bench/). A section is replaced only when its scenario runs;',
    '     the others are kept. Edit bench/, not this file. -->',
    '',
    HOW_TO_READ,
    '',
    `Latest run: ${formatDate(run.date)}, \`${run.command}\`.`,
    ...machineLines(run.machine).map((line) => `${line}.`),
  ]
  return `${[preamble.join('\n'), ...names.map((n) => sections.get(n) as string)].join('\n\n')}\n`
}
