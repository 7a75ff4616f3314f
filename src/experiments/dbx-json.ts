/**
 * JSON as dbx writes it. dbxlogger uses Python's json module, which writes float NaN and infinities
 * as the bare tokens NaN, Infinity and -Infinity, and its log writer turns an event without data into
 * `{"event": "x", }`. Neither is JSON; both are read here. Values it could not encode natively are
 * tagged: {"_dbx": "nan" | "inf" | "-inf" | "expfile" | "reffile", …}.
 */

export type DbxValue = null | boolean | number | string | DbxValue[] | { [key: string]: DbxValue }
export type DbxObject = { [key: string]: DbxValue }

const TAGGED: Record<string, string> = {
  NaN: '{"_dbx":"nan"}',
  Infinity: '{"_dbx":"inf"}',
  '-Infinity': '{"_dbx":"-inf"}',
}

/** Rewrites Python's non-JSON tokens outside strings, and drops a comma before a closing bracket. */
function pythonToJson(text: string): string {
  let out = ''
  let i = 0
  while (i < text.length) {
    const c = text.charAt(i)
    if (c === '"') {
      let j = i + 1
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1
      out += text.slice(i, j + 1)
      i = j + 1
      continue
    }
    const token = /^(-Infinity|Infinity|NaN)/.exec(text.slice(i, i + 9))?.[1]
    if (token) {
      out += TAGGED[token]
      i += token.length
      continue
    }
    if (c === ',') {
      const rest = /^,\s*([}\]])/.exec(text.slice(i, i + 64))
      if (rest) {
        i += rest[0].length - 1
        continue
      }
    }
    out += c
    i++
  }
  return out
}

/** Parses JSON, accepting what Python's json module and dbxlogger write. Throws SyntaxError. */
export function parseDbxJson(text: string): DbxValue {
  try {
    return JSON.parse(text) as DbxValue
  } catch (err) {
    let fixed: string
    try {
      fixed = pythonToJson(text)
    } catch {
      throw err
    }
    if (fixed === text) throw err
    return JSON.parse(fixed) as DbxValue
  }
}

/**
 * True when arrays and objects nest more than `max` levels deep. Walked with an explicit stack:
 * JSON.parse reads any depth, but the recursive code after it (JSON.stringify, walks over params)
 * overflows the call stack at a few thousand levels.
 */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]]
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [v, depth] = top
    if (typeof v !== 'object' || v === null) continue
    if (depth >= max) return true
    for (const child of Object.values(v)) stack.push([child, depth + 1])
  }
  return false
}

export function isDbxObject(value: unknown): value is DbxObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A number from a log value: plain numbers and the NaN/±inf tags; undefined for anything else. */
export function dbxNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value
  if (!isDbxObject(value)) return undefined
  switch (value._dbx) {
    case 'nan':
      return Number.NaN
    case 'inf':
      return Number.POSITIVE_INFINITY
    case '-inf':
      return Number.NEGATIVE_INFINITY
    default:
      return undefined
  }
}

/** JSON.stringify of a string with every non-ASCII character escaped, as Python's ensure_ascii. */
function asciiString(s: string): string {
  return JSON.stringify(s).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

/** Converts what JSON cannot carry: NaN/±Infinity become tags, Dates ISO strings in UTC. */
function encodeScalar(value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    return { _dbx: Number.isNaN(value) ? 'nan' : value > 0 ? 'inf' : '-inf' }
  }
  if (value instanceof Date) return value.toISOString()
  if (typeof value === 'bigint') return Number(value)
  return value
}

/**
 * Serializes like Python's json.dumps(value, sort_keys=True) — separators ", " and ": " on one line,
 * or json.dump(indent=n) — so files we write look like dbxlogger's. Keys are sorted by code unit.
 * undefined and functions inside objects are dropped, inside arrays written as null.
 */
export function formatDbxJson(value: unknown, indent?: number, depth = 0): string {
  const v = encodeScalar(value)
  if (v === null || v === undefined || typeof v === 'function' || typeof v === 'symbol') {
    return 'null'
  }
  if (typeof v === 'string') return asciiString(v)
  if (typeof v !== 'object') return JSON.stringify(v)
  const inner = indent === undefined ? '' : `\n${' '.repeat(indent * (depth + 1))}`
  const outer = indent === undefined ? '' : `\n${' '.repeat(indent * depth)}`
  const comma = indent === undefined ? ', ' : ','
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]'
    const items = v.map((item) => formatDbxJson(item, indent, depth + 1))
    return `[${inner}${items.join(`${comma}${inner}`)}${outer}]`
  }
  const entries = Object.entries(v as Record<string, unknown>)
    .filter(([, item]) => item !== undefined && typeof item !== 'function')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  if (entries.length === 0) return '{}'
  const members = entries.map(
    ([key, item]) => `${asciiString(key)}: ${formatDbxJson(item, indent, depth + 1)}`,
  )
  return `{${inner}${members.join(`${comma}${inner}`)}${outer}}`
}

/** One log line (without the newline): "event" first, then the values' keys sorted. */
export function formatLogLine(event: string, values: Record<string, unknown>): string {
  const { event: _ignored, ...rest } = values
  const body = formatDbxJson(rest)
  return body === '{}'
    ? `{"event": ${asciiString(event)}}`
    : `{"event": ${asciiString(event)}, ${body.slice(1)}`
}
