import { createReadStream } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { MlvcError } from '../core/index.ts'
import { checkKey, MARKER_KEY } from '../remote/index.ts'
import type { Repo } from './accounts.ts'
import { HubHttpError, readJson, receiveFile, sendJson } from './http.ts'
import type { Hub } from './hub.ts'
import { type Role, rank } from './names.ts'
import { checkPack, idxPackName, objectIndex } from './pack-check.ts'

const indexOf = objectIndex()

function keyOf(raw: string): string {
  try {
    return checkKey(decodeURIComponent(raw), 'hub')
  } catch (err) {
    throw new HubHttpError(400, 'USAGE', `invalid object key ${JSON.stringify(raw)}`, {
      cause: err,
    })
  }
}

/** `bytes=A-B` / `bytes=A-` of an object of `size` bytes; undefined: the whole object. */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | undefined {
  if (header === undefined) return undefined
  const match = /^bytes=(\d+)-(\d*)$/.exec(header.trim())
  if (!match) throw new HubHttpError(416, 'USAGE', `unsupported Range ${JSON.stringify(header)}`)
  const start = Number(match[1])
  const end = match[2] ? Math.min(Number(match[2]), size - 1) : size - 1
  if (start > end || start >= size)
    throw new HubHttpError(416, 'USAGE', `range ${header} is outside the object's ${size} bytes`)
  return { start, end }
}

/** What an object key needs: writers add, only admins remove what is not a lock. */
export function neededRole(method: string, key: string | undefined): Role {
  if (method === 'GET' || method === 'HEAD') return 'read'
  if (method === 'DELETE' && key !== undefined && !key.startsWith('locks/')) return 'admin'
  if (method === 'POST' && key === undefined) return 'read'
  return 'write'
}

export interface ObjectRequest {
  hub: Hub
  repo: Repo
  role: Role
  /** What follows /OWNER/REPO/mlvc/: objects, objects/KEY or have. */
  rest: string
  query: URLSearchParams
}

/**
 * The object API (docs/hub-api.md): the repository's mlvc objects as a `Remote` sees them, plus
 * a batch "which of these ids do you have". Uploads stream to a file, then move into place whole;
 * a pack's index is accepted only after the pack is checked against it.
 */
export async function handleObjects(
  request: ObjectRequest,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const { hub, repo, rest } = request
  const method = req.method ?? 'GET'
  const remote = hub.storage.remote(repo.id)
  if (rest === 'have' && method === 'POST') {
    const body = await readJson(req, hub.config.limits.jsonBytes)
    const ids = body.ids
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) {
      throw new HubHttpError(400, 'USAGE', 'field "ids" must be a list of object ids')
    }
    const held = await indexOf(remote)
    return sendJson(res, 200, { have: ids.filter((id) => held.has(id as string)) })
  }
  if (rest === 'objects' && method === 'GET') {
    const prefix = request.query.get('prefix') ?? ''
    if (prefix !== '' && !prefix.endsWith('/')) keyOf(prefix.replace(/\/$/, '') || 'x')
    const objects = []
    for await (const info of remote.list(prefix)) {
      objects.push({ key: info.key, size: info.size, modified: info.modified?.toISOString() })
    }
    return sendJson(res, 200, { objects })
  }
  if (!rest.startsWith('objects/'))
    throw new HubHttpError(404, 'NOT_FOUND', `no object route ${method} ${rest}`)
  const key = keyOf(rest.slice('objects/'.length))
  switch (method) {
    case 'HEAD':
    case 'GET':
      return sendObject(request, key, req, res)
    case 'PUT':
      return receiveObject(request, key, req, res)
    case 'DELETE':
      if (rank(request.role) < rank(neededRole(method, key)))
        throw new HubHttpError(403, 'PERMISSION', `deleting ${key} needs the admin role`)
      await remote.delete(key)
      res.writeHead(204).end()
      return
    default:
      throw new HubHttpError(405, 'USAGE', `method ${method} not allowed on objects`)
  }
}

async function sendObject(
  request: ObjectRequest,
  key: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const { hub, repo } = request
  const local = hub.storage.localRoot(repo.id)
  const remote = hub.storage.remote(repo.id)
  const info = await remote.head(key)
  if (!info)
    throw new HubHttpError(404, 'NOT_FOUND', `${repo.owner}/${repo.name} has no object ${key}`)
  const range = parseRange(
    typeof req.headers.range === 'string' ? req.headers.range : undefined,
    info.size,
  )
  const start = range?.start ?? 0
  const end = range?.end ?? info.size - 1
  const length = info.size === 0 ? 0 : end - start + 1
  res.writeHead(range ? 206 : 200, {
    'content-type': 'application/octet-stream',
    'content-length': length,
    'accept-ranges': 'bytes',
    ...(range ? { 'content-range': `bytes ${start}-${end}/${info.size}` } : {}),
  })
  if (req.method === 'HEAD' || length === 0) {
    res.end()
    return
  }
  if (local) {
    await pipeline(
      createReadStream(join(local, key), { start, end, highWaterMark: 1024 * 1024 }),
      res,
    )
    return
  }
  const step = 8 * 1024 * 1024
  for (let at = start; at <= end; at += step) {
    const part = await remote.getRange(key, at, Math.min(step, end + 1 - at))
    if (!res.write(part)) await new Promise((done) => res.once('drain', done))
  }
  res.end()
}

async function receiveObject(
  request: ObjectRequest,
  key: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const { hub, repo } = request
  const exclusive = req.headers['if-none-match'] === '*'
  const file = await receiveFile(req, hub.tmpDir, hub.config.limits.objectBytes)
  const remote = hub.storage.remote(repo.id)
  try {
    const name = idxPackName(key)
    // Encrypted repositories seal their keys: an index under its plain name means plaintext packs.
    if (name !== undefined && !(await remote.head(MARKER_KEY))) {
      try {
        await checkPack(remote, name, await readFile(file.path), hub.storage.localRoot(repo.id))
      } catch (err) {
        if (err instanceof MlvcError && err.code === 'CORRUPT') {
          // Refused whole: the pack goes too, so nothing of this upload stays.
          await remote.delete(`packs/${name}.pack`)
          hub.log.warn('pack refused', { repo: repo.id, key, reason: err.message })
        }
        throw err
      }
    }
    const stored = await hub.storage.commit(repo.id, key, file.path, exclusive)
    if (!stored) {
      throw new HubHttpError(412, 'EXISTS', `${repo.owner}/${repo.name} already has ${key}`)
    }
    hub.log.info('object stored', { repo: repo.id, key, bytes: file.size })
    sendJson(res, 201, { key, size: file.size })
  } finally {
    await rm(file.path, { force: true })
  }
}
