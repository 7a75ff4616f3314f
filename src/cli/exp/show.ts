import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { maxOf } from '../../core/index.ts'
import {
  dbxNumber,
  display,
  flattenParams,
  hasRepoFile,
  listStreams,
  loadExperiments,
  numericKeys,
  pickExperiment,
  readAllLogs,
  readFilesJson,
  readVersion,
} from '../../experiments/index.ts'
import { type CommandResult, formatBytes, type Io } from '../io.ts'
import { quote } from '../text.ts'
import { openExpContext, type RepoOption, warnProblems } from './context.ts'
import { formatNumber, renderTable } from './table.ts'

function section(title: string, given: Array<[string, string]>): string {
  if (given.length === 0) return ''
  const rows = given.map(([k, v]) => [quote(k), quote(v)] as const)
  const width = maxOf(rows.map(([k]) => k.length))
  return [title, ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)].join('\n')
}

/** One experiment: meta, params, files (verified against files.json), RepoFiles, logs, last values. */
export async function expShow(io: Io, [id]: [string], options: RepoOption): Promise<CommandResult> {
  const { repo } = await openExpContext(io, options)
  const { experiments } = await loadExperiments(repo)
  const exp = pickExperiment(experiments, id)
  const version = await readVersion(repo, exp)
  const recorded = await readFilesJson(exp.dir)
  const files = version.files.map((f) => ({
    name: f.name,
    size: f.size,
    sha256: f.sha256,
    status:
      recorded[f.name] === undefined
        ? ''
        : recorded[f.name] === f.sha256
          ? 'ok'
          : 'CHANGED since recorded',
  }))
  const repofiles = await Promise.all(
    version.repofiles.map(async (r) => {
      const present = await hasRepoFile(repo, r.sha256)
      const size = present
        ? (await stat(join(repo.dbx, 'attach', `SHA256-${r.sha256}`)).catch(() => undefined))?.size
        : undefined
      return { name: r.name, sha256: r.sha256, present, size }
    }),
  )
  const logs = await readAllLogs(exp.dir)
  warnProblems(io, logs.problems)
  const streams = (await listStreams(exp.dir)).map((s) => {
    const events = logs.events.filter((e) => e.stream === s)
    return {
      stream: s,
      file: s === '' ? 'log.jsonl' : `${s}.log.jsonl`,
      events: events.length,
      last: events.at(-1)?.event ?? null,
    }
  })
  const last: Record<string, number | undefined> = {}
  for (const key of numericKeys(logs.events)) {
    const hit = logs.events.findLast((e) => e.values[key] !== undefined)
    last[key] = dbxNumber(hit?.values[key])
  }
  const m = exp.meta
  const git = m.git
    ? `${m.git.branch ?? '(detached)'} ${(m.git.commit ?? '').slice(0, 10)}${m.git.uncommited_changes ? ` + uncommitted changes${m.git.patch ? ` (${m.git.patch})` : ''}` : ''}`
    : ''
  const text = [
    section(
      `experiment ${exp.id}`,
      [
        ['name', exp.name ?? '(none)'],
        ['path', exp.path],
        ['kind', m.kind],
        ['created', m.createdAt],
        ['host', m.hostname ?? ''],
        ['command', (m.cmd ?? []).join(' ')],
        ['git', git],
      ].filter(([, v]) => v !== '') as Array<[string, string]>,
    ),
    section(
      'params',
      Object.entries(flattenParams(m.params)).map(([k, v]) => [k, display(v)]),
    ),
    files.length + repofiles.length === 0
      ? ''
      : `files\n${indent(
          renderTable(
            ['name', 'size', 'kind', 'status'],
            [
              ...files.map((f) => [f.name, formatBytes(f.size), 'file', f.status]),
              ...repofiles.map((r) => [
                r.name,
                r.size === undefined ? '' : formatBytes(r.size),
                `RepoFile ${r.sha256.slice(0, 12)}`,
                r.present ? 'ok' : 'not here (mlvc exp fetch)',
              ]),
            ],
          ),
        )}`,
    section(
      'logs',
      streams.map((s) => [s.file, `${s.events} events${s.last ? `, last: ${s.last}` : ''}`]),
    ),
    section(
      'last values',
      Object.entries(last).map(([k, v]) => [k, formatNumber(v)]),
    ),
  ]
    .filter((s) => s !== '')
    .join('\n\n')
  return { data: { ...exp, files, repofiles, streams, last, problems: logs.problems }, text }
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')
}
