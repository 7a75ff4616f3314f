import { hostname } from 'node:os'
import { MlvcError } from '../../core/index.ts'
import { formatDbxJson, isDbxObject, parseDbxJson } from '../dbx-json.ts'
import { isSafeId } from '../ids.ts'
import { checkRelPath } from '../paths.ts'
import type { Problem } from '../scan.ts'
import type { HistoryRecord, IndexEntry } from './index.ts'

export interface Parsed<T> {
  entries: T[]
  problems: Problem[]
}

const HEX = /^[0-9a-f]{64}$/

export interface ParsedIndex extends Parsed<IndexEntry> {
  /** Ids on lines that were refused (an unsafe path, a bad hash): never to be touched. */
  rejected: Map<string, string>
}

export function parseIndex(text: string, source: string): ParsedIndex {
  const out: ParsedIndex = { entries: [], problems: [], rejected: new Map() }
  const lines = text.split('\n')
  for (const [i, line] of lines.entries()) {
    if (line === '') continue
    const problem = lineProblem(line, `${source} line ${i + 1}`)
    if (typeof problem === 'string') {
      out.problems.push({ path: source, message: `line ${i + 1}: ${problem}` })
      continue
    }
    if ('rejected' in problem) {
      out.problems.push({ path: source, message: `line ${i + 1}: ${problem.rejected}` })
      out.rejected.set(problem.id, `${source} line ${i + 1}: ${problem.rejected}`)
      continue
    }
    out.entries.push(problem)
  }
  return out
}

/** One index line: the entry, a reason to refuse an entry whose id is known, or a plain error. */
function lineProblem(
  line: string,
  where: string,
): IndexEntry | { id: string; rejected: string } | string {
  const m = /^(\S+) (\S+) (.+)$/.exec(line)
  if (!m) return 'not "<id> <hash> <path>"'
  const [, id, hash, path] = m as unknown as [string, string, string, string]
  if (!isSafeId(id)) return `invalid id "${id}"`
  if (!HEX.test(hash)) return { id, rejected: `invalid hash for ${id}` }
  try {
    checkRelPath(path, where)
  } catch (err) {
    return { id, rejected: (err as Error).message }
  }
  return { id, hash, path }
}

export function formatIndex(entries: Iterable<IndexEntry>): string {
  return [...entries]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.id < b.id ? -1 : 1))
    .map((e) => `${e.id} ${e.hash} ${e.path}\n`)
    .join('')
}

function checkRecord(value: unknown): HistoryRecord | string {
  if (!isDbxObject(value)) return 'not a JSON object'
  const { op, id, hash, path, time, host } = value
  if (op !== 'version' && op !== 'delete') return `unknown op ${JSON.stringify(op)}`
  if (typeof id !== 'string' || !isSafeId(id)) return 'invalid id'
  if (typeof hash !== 'string' || !HEX.test(hash)) return 'invalid hash'
  if (typeof path !== 'string') return 'invalid path'
  return {
    op,
    id,
    hash,
    path,
    time: typeof time === 'string' ? time : '',
    host: typeof host === 'string' ? host : '',
  }
}

/** Parses history; a cut-off last line (a crash while appending) is reported, not fatal. */
export function parseHistory(text: string, source: string): Parsed<HistoryRecord> {
  const entries: HistoryRecord[] = []
  const problems: Problem[] = []
  const lines = text.split('\n')
  lines.forEach((line, i) => {
    if (line.trim() === '') return
    let value: unknown
    try {
      value = parseDbxJson(line)
    } catch {
      const cut = i === lines.length - 1
      problems.push({
        path: source,
        message: `line ${i + 1} ${cut ? 'is cut off' : 'is not valid JSON'}; ignored`,
      })
      return
    }
    const record = checkRecord(value)
    if (typeof record === 'string')
      problems.push({ path: source, message: `line ${i + 1}: ${record}` })
    else entries.push(record)
  })
  return { entries, problems }
}

export function formatHistory(records: Iterable<HistoryRecord>): string {
  let out = ''
  for (const r of records) out += `${formatDbxJson(r)}\n`
  return out
}

export function newRecord(
  op: HistoryRecord['op'],
  entry: IndexEntry,
  now = new Date(),
): HistoryRecord {
  return {
    op,
    id: entry.id,
    hash: entry.hash,
    path: entry.path,
    time: now.toISOString(),
    host: hostname(),
  }
}

export function recordKey(r: HistoryRecord): string {
  return `${r.op} ${r.id} ${r.hash} ${r.path}`
}

/** What a history says about one experiment. */
export interface Known {
  /** Every version hash the repository has held. */
  hashes: Set<string>
  /** The last record. */
  last: HistoryRecord
}

export function summarizeHistory(records: readonly HistoryRecord[]): Map<string, Known> {
  const out = new Map<string, Known>()
  for (const r of records) {
    const known = out.get(r.id)
    if (known) {
      known.hashes.add(r.hash)
      known.last = r
    } else out.set(r.id, { hashes: new Set([r.hash]), last: r })
  }
  return out
}

/** The index a history implies (used when .dbx/index is missing). */
export function indexFromHistory(records: readonly HistoryRecord[]): Map<string, IndexEntry> {
  const out = new Map<string, IndexEntry>()
  for (const [id, known] of summarizeHistory(records)) {
    if (known.last.op === 'version')
      out.set(id, { id, hash: known.last.hash, path: known.last.path })
  }
  return out
}

export function corruptState(source: string, problems: readonly Problem[]): MlvcError {
  return new MlvcError('CORRUPT', `${source}: ${problems[0]?.message ?? 'unreadable'}`, {
    hint: 'the index is rebuilt from history if you delete it; history lines can be fixed by hand',
  })
}
