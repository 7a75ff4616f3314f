import { createWriteStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { type ErrorCode, MlvcError, type MlvcErrorOptions, uniqueName } from '../core/index.ts'

/** An MlvcError that also says which HTTP status answers it (401, 403, 404, 413, …). */
export class HubHttpError extends MlvcError {
  readonly status: number
  constructor(status: number, code: ErrorCode, message: string, options: MlvcErrorOptions = {}) {
    super(code, message, options)
    this.status = status
  }
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  USAGE: 400,
  BAD_ID: 400,
  BAD_CONFIG: 400,
  NOT_FOUND: 404,
  PERMISSION: 403,
  EXISTS: 409,
  CORRUPT: 422,
  MISSING_OBJECT: 422,
  LOCKED: 423,
  REMOTE: 502,
}

/** The status for any error: its own, its code's, else 500. */
export function statusOf(err: unknown): number {
  if (err instanceof HubHttpError) return err.status
  if (err instanceof MlvcError) return STATUS[err.code] ?? 500
  return 500
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = `${JSON.stringify(body)}\n`
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  })
  res.end(text)
}

/**
 * An error as JSON: { error: { code, message, hint } }; 401s carry the Basic challenge git needs,
 * unless `challenge` is false (a page's script: a challenge would open the browser's own login
 * dialog over the page).
 */
export function sendError(res: ServerResponse, err: unknown, challenge = true): void {
  const status = statusOf(err)
  const known = err instanceof MlvcError
  const body = {
    error: {
      code: known ? err.code : 'INTERNAL',
      message: known ? err.message : 'internal error (see the hub log)',
      ...(known && err.hint ? { hint: err.hint } : {}),
    },
  }
  if (res.headersSent) {
    res.destroy()
    return
  }
  sendJson(
    res,
    status,
    body,
    status === 401 && challenge
      ? { 'www-authenticate': 'Basic realm="mlvc hub", charset="UTF-8"' }
      : {},
  )
}

function tooLarge(limit: number): HubHttpError {
  return new HubHttpError(
    413,
    'USAGE',
    `request body is larger than the hub accepts (${limit} bytes)`,
    {
      hint: 'the hub limits bodies (limits.* in hub.yaml)',
    },
  )
}

/** The declared length, checked against `limit` before a byte is read. */
function declaredLength(req: IncomingMessage, limit: number): number | undefined {
  const header = req.headers['content-length']
  if (header === undefined) return undefined
  const length = Number(header)
  if (!Number.isSafeInteger(length) || length < 0)
    throw new HubHttpError(400, 'USAGE', 'bad Content-Length')
  if (length > limit) throw tooLarge(limit)
  return length
}

/** Reads a whole body of at most `limit` bytes (413 beyond). */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  declaredLength(req, limit)
  const parts: Buffer[] = []
  let size = 0
  for await (const part of req as AsyncIterable<Buffer>) {
    size += part.length
    if (size > limit) {
      req.destroy()
      throw tooLarge(limit)
    }
    parts.push(part)
  }
  return Buffer.concat(parts)
}

/** Reads a JSON body of at most `limit` bytes (an empty body is `{}`). */
export async function readJson(
  req: IncomingMessage,
  limit: number,
): Promise<Record<string, unknown>> {
  const body = await readBody(req, limit)
  const size = body.length
  if (size === 0) return {}
  let value: unknown
  try {
    value = JSON.parse(body.toString('utf8'))
  } catch (err) {
    throw new HubHttpError(400, 'USAGE', 'request body is not JSON', { cause: err })
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HubHttpError(400, 'USAGE', 'request body must be a JSON object')
  }
  return value as Record<string, unknown>
}

/**
 * Streams a request body into a new file in `dir` (at most `limit` bytes); returns its path and
 * size. The file is removed when anything fails, so an interrupted upload leaves nothing.
 */
export async function receiveFile(
  req: IncomingMessage,
  dir: string,
  limit: number,
): Promise<{ path: string; size: number }> {
  const declared = declaredLength(req, limit)
  const path = join(dir, uniqueName('upload'))
  let size = 0
  try {
    await pipeline(
      req,
      async function* (source: AsyncIterable<Buffer>) {
        for await (const part of source) {
          size += part.length
          if (size > limit) throw tooLarge(limit)
          yield part
        }
      },
      createWriteStream(path, { flags: 'wx' }),
    )
    if (declared !== undefined && size !== declared) {
      throw new HubHttpError(400, 'USAGE', `request body ended after ${size} of ${declared} bytes`)
    }
    return { path, size }
  } catch (err) {
    await rm(path, { force: true })
    throw err
  }
}

export function stringField(body: Record<string, unknown>, key: string, required: true): string
export function stringField(
  body: Record<string, unknown>,
  key: string,
  required?: false,
): string | undefined
export function stringField(
  body: Record<string, unknown>,
  key: string,
  required = false,
): string | undefined {
  const value = body[key]
  if (value === undefined || value === null) {
    if (required) throw new HubHttpError(400, 'USAGE', `field "${key}" is required`)
    return undefined
  }
  if (typeof value !== 'string')
    throw new HubHttpError(400, 'USAGE', `field "${key}" must be a string`)
  return value
}

export function booleanField(body: Record<string, unknown>, key: string): boolean | undefined {
  const value = body[key]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'boolean')
    throw new HubHttpError(400, 'USAGE', `field "${key}" must be true or false`)
  return value
}
