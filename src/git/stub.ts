import { fileError, type MlvcError } from '../core/index.ts'
import { parseId } from '../store/index.ts'

/**
 * What Git stores in place of a tracked file: small, deterministic UTF-8 text that starts with a
 * fixed signature line. Version 1:
 *
 *   # mlvc stub v1: the data lives in the mlvc store; run `mlvc pull` if you see this in a work tree
 *   size: 1073741824
 *   sha256: 5f1c…
 *   id: bagaaiera…
 *
 * Later lines (a checkpoint's format and one line per tensor) follow `id`; readers of version 1
 * ignore keys they do not know, so adding lines does not need a new version.
 */
export interface Stub {
  size: number
  sha256: string
  /** The manifest id of the content. */
  id: string
  /** Extra lines after the required keys, kept verbatim (checkpoint details). */
  extra?: string[]
}

export const STUB_VERSION = 1
const SIGNATURE = '# mlvc stub v'
const HEADER = `${SIGNATURE}${STUB_VERSION}: the data lives in the mlvc store; run \`mlvc pull\` if you see this in a work tree`
/** Stubs are small; anything larger is content, even if it starts like a stub. */
export const MAX_STUB_BYTES = 4 * 1024 * 1024

export function formatStub(stub: Stub): string {
  const lines = [
    HEADER,
    `size: ${stub.size}`,
    `sha256: ${stub.sha256}`,
    `id: ${stub.id}`,
    ...(stub.extra ?? []),
  ]
  return `${lines.join('\n')}\n`
}

/** True when `data` starts with the stub signature (cheap; does not validate). */
export function looksLikeStub(data: Uint8Array): boolean {
  return (
    data.length <= MAX_STUB_BYTES &&
    Buffer.from(data.buffer, data.byteOffset, Math.min(data.length, SIGNATURE.length)).toString(
      'latin1',
    ) === SIGNATURE
  )
}

/** Why a stub cannot be used: malformed, or written by a newer mlvc (whose format is unknown). */
export interface StubProblem {
  kind: 'malformed' | 'newer'
  /** The stub's name as the reader gave it (a path, or "their side"). */
  where: string
  /** What is wrong, without the name. */
  detail: string
  /** `WHERE: DETAIL`. */
  message: string
  hint: string
}

function problem(kind: StubProblem['kind'], where: string, detail: string, hint: string) {
  return { problem: { kind, where, detail, message: `${where}: ${detail}`, hint } }
}

/** The BAD_STUB error for an unusable stub, naming it (and carrying its name as `path`). */
export function stubProblemError(problem: StubProblem): MlvcError {
  return fileError('BAD_STUB', problem.where, problem.detail, { hint: problem.hint })
}

export type StubReading = { stub: Stub } | { problem: StubProblem }

const RESTORE_HINT =
  'check out a good version of the file (git checkout COMMIT -- FILE) or add the real file again'

function malformed(where: string, what: string): { problem: StubProblem } {
  return problem('malformed', where, `malformed mlvc stub (${what})`, RESTORE_HINT)
}

/**
 * Reads a stub without throwing: the stub, or why it cannot be used. Undefined when the data is not
 * a stub at all (it does not start with the signature).
 */
export function readStub(data: Uint8Array, where: string): StubReading | undefined {
  if (!looksLikeStub(data)) return undefined
  const text = Buffer.from(data).toString('utf8')
  const lines = text.split('\n')
  const versionText = /^\d+/.exec((lines[0] ?? '').slice(SIGNATURE.length))?.[0]
  if (versionText === undefined) return malformed(where, 'bad signature line')
  const version = Number(versionText)
  if (version > STUB_VERSION) {
    const detail = `written by a newer mlvc (stub v${versionText}; this mlvc reads v${STUB_VERSION})`
    return problem('newer', where, detail, 'upgrade mlvc')
  }
  const fields = new Map<string, string>()
  const extra: string[] = []
  for (const line of lines.slice(1)) {
    if (line === '') continue
    const [, key, value] = /^([a-z0-9_]+): (.*)$/.exec(line) ?? []
    if (key !== undefined && value !== undefined && fields.size < 3 && extra.length === 0)
      fields.set(key, value)
    else extra.push(line)
  }
  const sizeText = fields.get('size') ?? ''
  const size = Number(sizeText)
  const sha256 = fields.get('sha256') ?? ''
  const id = fields.get('id') ?? ''
  if (!/^\d+$/.test(sizeText) || !Number.isSafeInteger(size))
    return malformed(where, `size ${JSON.stringify(sizeText.slice(0, 40))} is not a byte count`)
  if (!/^[0-9a-f]{64}$/.test(sha256))
    return malformed(where, `sha256 ${JSON.stringify(sha256.slice(0, 80))} is not 64 hex digits`)
  try {
    if (parseId(id).kind !== 'manifest')
      return malformed(where, `id ${id} names a chunk, not a file`)
  } catch {
    return malformed(where, `id ${JSON.stringify(id.slice(0, 80))} is not an mlvc file id`)
  }
  return { stub: extra.length > 0 ? { size, sha256, id, extra } : { size, sha256, id } }
}

/**
 * Parses a stub; throws BAD_STUB naming `where` for a malformed stub or one from a future version.
 * Returns undefined when the data is not a stub at all.
 */
export function parseStub(data: Uint8Array, where: string): Stub | undefined {
  const reading = readStub(data, where)
  if (reading === undefined || 'stub' in reading) return reading?.stub
  throw stubProblemError(reading.problem)
}
