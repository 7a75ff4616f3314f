import { join } from 'node:path'
import { listDirIfExists, pushAll, readTextIfExists } from '../core/index.ts'
import { type DbxObject, isDbxObject, parseDbxJson } from './dbx-json.ts'
import type { Problem } from './scan.ts'

/** One log line: `{"event": "a/b/c", …values}`. */
export interface LogEvent {
  event: string
  values: DbxObject
  /** The stream: "" for log.jsonl, "eval" for eval.log.jsonl. */
  stream: string
  /** 1-based line number in its file. */
  line: number
}

export interface LogRead {
  events: LogEvent[]
  problems: Problem[]
  /**
   * Those of `problems` that are a last line cut off (a run that stopped while writing it): the
   * events before it are whole, so it is a warning, not damage.
   */
  cutOff: Problem[]
}

export const LOG_FILE = 'log.jsonl'

/** The stream a file name holds ("" for log.jsonl, "eval" for eval.log.jsonl), or undefined. */
export function streamOf(fileName: string): string | undefined {
  if (fileName === LOG_FILE) return ''
  if (fileName.endsWith(`.${LOG_FILE}`)) return fileName.slice(0, -LOG_FILE.length - 1)
  return undefined
}

export function logFileName(stream: string): string {
  return stream === '' ? LOG_FILE : `${stream}.${LOG_FILE}`
}

/** The log streams of an experiment folder, "" (log.jsonl) first. */
export async function listStreams(dir: string): Promise<string[]> {
  return (await listDirIfExists(dir))
    .map(streamOf)
    .filter((s): s is string => s !== undefined)
    .sort()
}

/**
 * Parses a log file's text. Whole lines that are not a JSON object with a string "event" are
 * reported and skipped; a last line without its newline that does not parse is reported as cut off
 * (a run that crashed while writing), everything before it is read.
 */
export function parseLog(text: string, path: string, stream: string): LogRead {
  const events: LogEvent[] = []
  const problems: Problem[] = []
  const cutOff: Problem[] = []
  const lines = text.split('\n')
  const complete = text.endsWith('\n')
  lines.forEach((raw, i) => {
    const last = i === lines.length - 1
    if (raw.trim() === '') return
    let value: unknown
    try {
      value = parseDbxJson(raw)
    } catch {
      if (last && !complete) {
        const message = `line ${i + 1} is cut off (the run stopped while writing it); read the ${events.length} whole events before it`
        const problem = { path, message }
        problems.push(problem)
        cutOff.push(problem)
      } else {
        problems.push({ path, message: `line ${i + 1} is not valid JSON; skipped` })
      }
      return
    }
    if (!isDbxObject(value) || typeof value.event !== 'string') {
      problems.push({ path, message: `line ${i + 1} has no "event" name; skipped` })
      return
    }
    const { event, ...values } = value
    events.push({ event, values, stream, line: i + 1 })
  })
  return { events, problems, cutOff }
}

/** Reads one stream of an experiment. A missing file is an empty log. */
export async function readLog(dir: string, stream = ''): Promise<LogRead> {
  const path = join(dir, logFileName(stream))
  const text = await readTextIfExists(path)
  if (text === undefined) return { events: [], problems: [], cutOff: [] }
  return parseLog(text, path, stream)
}

/** Every stream of an experiment, log.jsonl first. */
export async function readAllLogs(dir: string): Promise<LogRead> {
  const out: LogRead = { events: [], problems: [], cutOff: [] }
  for (const stream of await listStreams(dir)) {
    const read = await readLog(dir, stream)
    pushAll(out.events, read.events)
    pushAll(out.problems, read.problems)
    pushAll(out.cutOff, read.cutOff)
  }
  return out
}
