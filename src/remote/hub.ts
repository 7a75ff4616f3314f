import { createReadStream, createWriteStream } from 'node:fs'
import { rename, rm, stat } from 'node:fs/promises'
import { type ClientRequest, request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { MlvcError, uniqueName } from '../core/index.ts'

/** What fetch sends (files go through putFile). */
type Body = Uint8Array

import { hubCredentials } from './hub-credentials.ts'
import { checkKey } from './keys.ts'
import type { Remote, RemoteCallOptions, RemoteObjectInfo } from './remote.ts'
import { withRetries } from './retry.ts'

/** http(s)://HOST[:PORT]/OWNER/REPO[.git] → the repository's object API base and its hub. */
export function parseHubUrl(url: string, remote: string): { hub: URL; base: string } {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch (err) {
    throw new MlvcError('BAD_CONFIG', `remote ${remote}: "${url}" is not a URL`, { cause: err })
  }
  const parts = parsed.pathname.split('/').filter(Boolean)
  if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parts.length !== 2) {
    throw new MlvcError('BAD_CONFIG', `remote ${remote}: "${url}" is not a hub repository URL`, {
      hint: 'use http(s)://HOST[:PORT]/OWNER/REPO',
    })
  }
  const [owner = '', name = ''] = parts
  const repo = name.endsWith('.git') ? name.slice(0, -4) : name
  const hub = new URL(parsed.origin)
  return {
    hub,
    base: `${parsed.origin}/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/mlvc`,
  }
}

function retryable(status: number): boolean {
  return status >= 500 || status === 429 || status === 408
}

/**
 * A remote on an mlvc hub: the repository's objects through the hub's object API (the same URL
 * as its Git remote). Authenticates with the token `mlvc login` stored (Git's credential helper),
 * or MLVC_HUB_TOKEN. The hub checks each pack against its index on receipt.
 */
export function hubRemote(
  name: string,
  url: string,
  options: { concurrency?: number | undefined } = {},
): Remote {
  const { hub, base } = parseHubUrl(url, name)
  let auth: Promise<string | undefined> | undefined
  const authorization = () => {
    auth ??= hubCredentials(hub).then((c) =>
      c ? `Basic ${Buffer.from(`${c.user}:${c.token}`).toString('base64')}` : undefined,
    )
    return auth
  }
  const objectUrl = (key: string) =>
    `${base}/objects/${checkKey(key, name).split('/').map(encodeURIComponent).join('/')}`

  async function request(
    method: string,
    target: string,
    init: {
      headers?: Record<string, string>
      body?: Body
      signal?: AbortSignal | undefined
      ok?: number[]
    } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers }
    const token = await authorization()
    if (token) headers.authorization = token
    let response: Response
    try {
      response = await fetch(target, {
        method,
        headers,
        body: init.body,
        signal: init.signal,
      } as RequestInit)
    } catch (err) {
      throw networkError(method, target, err, init.signal)
    }
    if ((init.ok ?? [200]).includes(response.status)) return response
    const text = await response.text().catch(() => '')
    throw statusError(method, target, response.status, text)
  }

  /** The MlvcError for an answer of `status` (the hub's JSON error message when it sent one). */
  function statusError(method: string, target: string, status: number, text: string): MlvcError {
    let detail = text
    try {
      detail = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text
    } catch {}
    const code =
      status === 404
        ? 'NOT_FOUND'
        : status === 401 || status === 403
          ? 'PERMISSION'
          : status === 422
            ? 'CORRUPT'
            : 'REMOTE'
    const hint =
      status === 401
        ? `log in to the hub: mlvc login ${hub.origin} --user NAME`
        : status === 403
          ? 'ask an admin of the repository for write access, or use a token with a wider scope'
          : undefined
    return new MlvcError(code, `remote ${name}: ${method} ${target}: ${status} ${detail}`.trim(), {
      retryable: retryable(status),
      ...(hint ? { hint } : {}),
    })
  }

  function networkError(method: string, target: string, err: unknown, signal?: AbortSignal) {
    if (signal?.aborted)
      return new MlvcError('INTERRUPTED', `remote ${name}: interrupted`, { cause: err })
    return new MlvcError(
      'REMOTE',
      `remote ${name}: ${method} ${target}: ${(err as Error).message}`,
      {
        cause: err,
        retryable: true,
        hint: 'check that the hub is running and reachable',
      },
    )
  }

  /**
   * One request with node:http(s), retried like every request: the bulk transfers (a file's PUT,
   * a range's GET) go this way, because fetch with web streams cost about twice the time and CPU
   * (a 64 MiB upload on loopback: 0.5–1.1 s against 1.3–2.3 s; a 64 MiB fetch spent 0.85 s of
   * CPU in undici). `body` writes the request's body; `read` takes the answer when its status is
   * one of `ok` (any other status is read whole and becomes the hub's error).
   */
  function bulk<T>(
    method: string,
    target: string,
    init: {
      headers: Record<string, string>
      ok: number[]
      signal?: AbortSignal | undefined
      body?: (req: ClientRequest) => Promise<void>
    },
    read: (res: IncomingMessage) => Promise<T>,
  ): Promise<T> {
    return withRetries(
      async ({ signal }) => {
        const headers = { ...init.headers }
        const token = await authorization()
        if (token) headers.authorization = token
        try {
          const res = await new Promise<IncomingMessage>((done, fail) => {
            const url = new URL(target)
            const send = url.protocol === 'https:' ? httpsRequest : httpRequest
            const req = send(url, { method, headers, signal }, done)
            req.on('error', fail)
            if (init.body) init.body(req).catch(fail)
            else req.end()
          })
          if (!init.ok.includes(res.statusCode ?? 0)) {
            const chunks: Buffer[] = []
            for await (const chunk of res) chunks.push(chunk as Buffer)
            throw statusError(method, target, res.statusCode ?? 0, Buffer.concat(chunks).toString())
          }
          return await read(res)
        } catch (err) {
          throw err instanceof MlvcError ? err : networkError(method, target, err, signal)
        }
      },
      { signal: init.signal, describe: () => `remote ${name}: ${method} ${target}` },
    )
  }

  /**
   * One request and the reading of its answer, retried (with backoff, a timeout per attempt) on
   * resets, timeouts, 408, 429 and 5xx, like the S3 remote's: a loaded hub may drop a connection.
   */
  function send<T>(
    method: string,
    target: string,
    init: {
      headers?: Record<string, string>
      body?: () => Body
      signal?: AbortSignal | undefined
      ok?: number[]
    },
    read: (response: Response) => Promise<T>,
  ): Promise<T> {
    return withRetries(
      async ({ signal }) => {
        const { body, ...rest } = init
        const response = await request(method, target, {
          ...rest,
          ...(body ? { body: body() } : {}),
          signal,
        })
        return read(response)
      },
      { signal: init.signal, describe: () => `remote ${name}: ${method} ${target}` },
    )
  }

  function upload(
    key: string,
    body: () => Body,
    size: number,
    exclusive: boolean,
    options?: RemoteCallOptions,
  ): Promise<boolean> {
    return send(
      'PUT',
      objectUrl(key),
      {
        headers: {
          'content-type': 'application/octet-stream',
          'content-length': String(size),
          ...(exclusive ? { 'if-none-match': '*' } : {}),
        },
        body,
        signal: options?.signal,
        ok: exclusive ? [201, 412] : [201],
      },
      async (response) => {
        await response.arrayBuffer()
        options?.onBytes?.(size)
        return response.status === 201
      },
    )
  }

  return {
    name,
    url,
    concurrency: options.concurrency,
    async *list(prefix, options) {
      const body = await send(
        'GET',
        `${base}/objects?prefix=${encodeURIComponent(prefix)}`,
        { signal: options?.signal },
        async (response) =>
          (await response.json()) as {
            objects: Array<{ key: string; size: number; modified?: string }>
          },
      )
      for (const o of body.objects) {
        const info: RemoteObjectInfo = { key: o.key, size: o.size }
        if (o.modified) info.modified = new Date(o.modified)
        yield info
      }
    },
    head(key, options) {
      return send(
        'HEAD',
        objectUrl(key),
        { signal: options?.signal, ok: [200, 404] },
        async (response) =>
          response.status === 404
            ? undefined
            : { key, size: Number(response.headers.get('content-length') ?? 0) },
      )
    },
    get(key, options) {
      return send('GET', objectUrl(key), { signal: options?.signal }, async (response) =>
        Buffer.from(await response.arrayBuffer()),
      )
    },
    async getRange(key, offset, length, options) {
      if (length === 0) return Buffer.alloc(0)
      const part = await bulk(
        'GET',
        objectUrl(key),
        {
          headers: { range: `bytes=${offset}-${offset + length - 1}` },
          signal: options?.signal,
          ok: [206, 200],
        },
        async (res) => {
          // Into the caller's buffer when it fits (fetches reuse theirs), never gathered.
          const into = options?.into
          const target = into && into.length >= length ? into : Buffer.allocUnsafe(length)
          // A 200 is the whole object: the range starts `offset` bytes in.
          let skip = res.statusCode === 200 ? offset : 0
          let received = 0
          for await (const raw of res) {
            let chunk = raw as Buffer
            if (skip > 0) {
              const dropped = Math.min(skip, chunk.length)
              chunk = chunk.subarray(dropped)
              skip -= dropped
            }
            if (received < length)
              chunk.copy(target, received, 0, Math.min(chunk.length, length - received))
            received += chunk.length
          }
          return target.subarray(0, Math.min(received, length))
        },
      )
      if (part.length < length) {
        throw new MlvcError(
          'REMOTE',
          `remote ${name}: ${key} is truncated: bytes ${offset} to ${offset + length} were asked for, ${part.length} came`,
        )
      }
      options?.onBytes?.(part.length)
      return part
    },
    download(key, path, options) {
      return send('GET', objectUrl(key), { signal: options?.signal }, async (response) => {
        const tmp = `${path}.${uniqueName('download')}`
        try {
          if (!response.body)
            throw new MlvcError('REMOTE', `remote ${name}: ${key}: empty response`)
          await pipeline(
            Readable.fromWeb(response.body as import('node:stream/web').ReadableStream),
            createWriteStream(tmp),
          )
          await rename(tmp, path)
        } catch (err) {
          await rm(tmp, { force: true })
          throw err
        }
      })
    },
    async put(key, data, options) {
      const bytes = typeof data === 'string' ? Buffer.from(data) : data
      await upload(key, () => bytes, bytes.length, false, options)
    },
    async create(key, data, options) {
      const bytes = typeof data === 'string' ? Buffer.from(data) : data
      return upload(key, () => bytes, bytes.length, true, options)
    },
    async upload(path, key, options) {
      const size = (await stat(path)).size
      await bulk(
        'PUT',
        objectUrl(key),
        {
          headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
          ok: [201],
          signal: options?.signal,
          body: (req) => pipeline(createReadStream(path, { highWaterMark: 1024 * 1024 }), req),
        },
        async (res) => {
          res.resume()
        },
      )
    },
    delete(key, options) {
      return send(
        'DELETE',
        objectUrl(key),
        { signal: options?.signal, ok: [204, 404] },
        async (response) => {
          await response.arrayBuffer()
        },
      )
    },
  }
}
