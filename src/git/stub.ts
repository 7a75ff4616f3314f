import { MlvcError } from '../core/index.ts'
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

/**
 * Parses a stub; throws BAD_STUB naming `where` for a malformed stub or one from a future version.
 * Returns undefined when the data is not a stub at all.
 */
export function parseStub(data: Uint8Array, where: string): Stub | undefined {
  if (!looksLikeStub(data)) return undefined
  const text = Buffer.from(data).toString('utf8')
  const lines = text.split('\n')
  const version = Number.parseInt((lines[0] ?? '').slice(SIGNATURE.length), 10)
  if (!Number.isInteger(version))
    throw new MlvcError('BAD_STUB', `${where}: malformed mlvc stub (bad signature line)`)
  if (version > STUB_VERSION) {
    throw new MlvcError(
      'BAD_STUB',
      `${where}: written by a newer mlvc (stub v${version}; this mlvc reads v${STUB_VERSION})`,
      {
        hint: 'upgrade mlvc',
      },
    )
  }
  const fields = new Map<string, string>()
  const extra: string[] = []
  for (const line of lines.slice(1)) {
    if (line === '') continue
    const match = /^([a-z0-9_]+): (.*)$/.exec(line)
    if (match && fields.size < 3 && extra.length === 0)
      fields.set(match[1] as string, match[2] as string)
    else extra.push(line)
  }
  const size = Number(fields.get('size'))
  const sha256 = fields.get('sha256') ?? ''
  const id = fields.get('id') ?? ''
  if (!Number.isSafeInteger(size) || size < 0 || !/^[0-9a-f]{64}$/.test(sha256)) {
    throw new MlvcError('BAD_STUB', `${where}: malformed mlvc stub (size or sha256)`, {
      hint: 'restore the file from Git history (git checkout -- FILE)',
    })
  }
  try {
    if (parseId(id).kind !== 'manifest') throw new Error('not a file id')
  } catch (err) {
    throw new MlvcError('BAD_STUB', `${where}: malformed mlvc stub (id "${id}")`, { cause: err })
  }
  return extra.length > 0 ? { size, sha256, id, extra } : { size, sha256, id }
}
