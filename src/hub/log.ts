/** One structured log record; `msg` says what happened, the rest are facts about it. */
export type LogFields = Record<string, string | number | boolean | undefined>

export interface HubLog {
  info(msg: string, fields?: LogFields): void
  warn(msg: string, fields?: LogFields): void
  error(msg: string, fields?: LogFields): void
}

/** Token secrets (`mlvc_…`), credentials in URLs, and Basic/Bearer headers' values. */
const SECRETS = [
  /mlvc_[A-Za-z0-9_-]{8,}/g,
  /(\w+:\/\/)[^/@\s]*@/g,
  /\b(Basic|Bearer)\s+[A-Za-z0-9+/=._-]+/gi,
]

/** Removes anything that looks like a secret from a logged string. */
export function redact(text: string): string {
  return SECRETS.reduce(
    (out, pattern) =>
      out.replace(pattern, (_m, prefix: string | undefined) =>
        typeof prefix === 'string' && prefix.endsWith('://') ? `${prefix}***@` : '***',
      ),
    text,
  )
}

const NEVER = new Set(['authorization', 'password', 'token', 'secret', 'cookie'])

/**
 * JSON lines on `write` (the serve command passes stdout): one object per record with `time`,
 * `level` and `msg`. Fields named like secrets are dropped and every string is redacted, so a
 * token or password never reaches the log, whatever a caller passes.
 */
export function jsonLog(write: (line: string) => void): HubLog {
  const emit = (level: string, msg: string, fields: LogFields = {}) => {
    const record: Record<string, unknown> = {
      time: new Date().toISOString(),
      level,
      msg: redact(msg),
    }
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined || NEVER.has(key.toLowerCase())) continue
      record[key] = typeof value === 'string' ? redact(value) : value
    }
    write(`${JSON.stringify(record)}\n`)
  }
  return {
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
  }
}

export const silentLog: HubLog = { info() {}, warn() {}, error() {} }

/**
 * Gathers the lines written in one turn of the event loop and writes them together: a busy hub
 * logs a line per request, and a write to a pipe is a system call. Whatever is gathered is
 * written before the process exits.
 */
export function linesPerTurn(write: (text: string) => void): (line: string) => void {
  let pending: string[] = []
  const flush = () => {
    if (pending.length === 0) return
    const text = pending.join('')
    pending = []
    write(text)
  }
  process.on('exit', flush)
  return (line) => {
    if (pending.push(line) === 1) setImmediate(flush)
  }
}
