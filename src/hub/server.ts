import { randomUUID } from 'node:crypto'
import { chmod, mkdir, writeFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { findRepo, type Repo, repoById } from './accounts.ts'
import { handleApi } from './api.ts'
import { authorize, callerOf } from './auth.ts'
import { handleBrowse, isBrowseRoute } from './browse-http.ts'
import type { HubConfig } from './config.ts'
import { closeDeployments, resumeDeployments, scheduleApply } from './deploy-apply.ts'
import { serveDeployment } from './deploy-http.ts'
import { gitService, serveGit } from './git-http.ts'
import { writeAllTracked } from './hook.ts'
import { HubHttpError, sendError, sendJson, statusOf } from './http.ts'
import { type Hub, openHub } from './hub.ts'
import type { HubLog } from './log.ts'
import { dueMirrors, mirrorOf, syncMirror, webhookMatches } from './mirror.ts'
import { isValidName } from './names.ts'
import { handleObjects, neededRole } from './objects-http.ts'
import { handleSession, isSessionRoute, sessionCaller } from './session.ts'
import type { Caller } from './tokens.ts'
import { isWebPath, loadWebAssets, serveWeb, type WebAssets } from './web-http.ts'

export interface RunningHub {
  hub: Hub
  server: Server
  /** http://HOST:PORT of the listening socket. */
  url: string
  close(): Promise<void>
}

export interface StartOptions {
  log?: HubLog
  /**
   * The command that runs `mlvc hub hook pre-receive` (node and the CLI's main.js): Git runs it
   * for every push to check the pushed stubs.
   */
  hookCommand: readonly string[]
}

function shellWord(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`
}

/** The hooks every repository runs (core.hooksPath): the push gate. */
async function writeHooks(config: HubConfig, command: readonly string[]): Promise<void> {
  const dir = join(config.data, 'hooks')
  await mkdir(dir, { recursive: true })
  const script = `#!/bin/sh\nexec ${command.map(shellWord).join(' ')} hub hook pre-receive\n`
  const path = join(dir, 'pre-receive')
  await writeFile(path, script)
  await chmod(path, 0o755)
  await writeAllTracked(dir)
}

/** Every accepted push goes on to the repository's mirror, if it has one (in the background). */
function pushThrough(hub: Hub, repo: Repo): void {
  mirrorOf(hub, repo)
    .then((row) => (row ? syncMirror(hub, repo) : undefined))
    .catch((err: unknown) =>
      hub.log.error('mirror push-through failed', { repo: repo.id, error: String(err) }),
    )
}

/**
 * The mirror's webhook: POST /OWNER/REPO/mirror/webhook with the secret given when the mirror was
 * set (header X-Mlvc-Webhook-Secret, or ?secret=). A wrong secret or repository answers 404.
 */
async function mirrorWebhook(
  hub: Hub,
  req: IncomingMessage,
  res: ServerResponse,
  target: { owner: string; name: string },
): Promise<void> {
  req.resume()
  const url = new URL(req.url ?? '/', 'http://hub')
  const header = req.headers['x-mlvc-webhook-secret']
  const secret = typeof header === 'string' ? header : (url.searchParams.get('secret') ?? '')
  const repo = await findRepo(hub.db, target.owner, target.name)
  const row = repo ? await mirrorOf(hub, repo) : undefined
  if (!repo || !row || !webhookMatches(row, secret))
    throw new HubHttpError(404, 'NOT_FOUND', 'not found')
  const status = await syncMirror(hub, repo)
  sendJson(res, 200, status)
}

/** Pulls the mirrors whose interval has passed; errors are logged, never thrown. */
async function pullDueMirrors(hub: Hub): Promise<void> {
  for (const id of await dueMirrors(hub)) {
    const repo = await repoById(hub.db, id)
    if (repo) await syncMirror(hub, repo)
  }
}

/** Splits /OWNER/REPO[.git]/REST; undefined when the path is not a repository's. */
export function repoPath(
  pathname: string,
): { owner: string; name: string; rest: string } | undefined {
  const parts = pathname.split('/')
  const [, owner = '', rawName = '', ...rest] = parts
  const name = rawName.endsWith('.git') ? rawName.slice(0, -4) : rawName
  if (!isValidName(owner) || !isValidName(name)) return undefined
  return { owner, name, rest: rest.join('/') }
}

/** The JSON API's caller: a token (Authorization), else the web session's cookie (CSRF-checked). */
async function apiCaller(hub: Hub, req: IncomingMessage): Promise<Caller | undefined> {
  return (await callerOf(hub, req)) ?? (await sessionCaller(hub, req))
}

async function route(
  hub: Hub,
  req: IncomingMessage,
  res: ServerResponse,
  web: () => Promise<WebAssets>,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://hub')
  // Decoded segments are checked by name rules; a raw path with NUL, `..` or odd bytes never matches.
  const pathname = url.pathname
  if (isWebPath(pathname)) return serveWeb(await web(), req, res)
  if (pathname.startsWith('/v1/')) {
    const path = pathname.slice('/v1/'.length).split('/').map(decodeURIComponent)
    // A session may call too (the web app's "try it" form; a POST then needs its CSRF token).
    return serveDeployment(hub, req, res, path, await apiCaller(hub, req))
  }
  if (pathname.startsWith('/api/v1/')) {
    const path = pathname.slice('/api/v1/'.length).split('/').map(decodeURIComponent)
    const method = req.method ?? 'GET'
    if (isSessionRoute(path)) {
      // Signing in needs no caller (a stale session cookie must not stand in the way).
      const signIn = method === 'POST' && path[0] === 'session'
      return handleSession(hub, req, res, path, signIn ? undefined : await apiCaller(hub, req))
    }
    const caller = await apiCaller(hub, req)
    if (isBrowseRoute(method, path)) return handleBrowse(hub, req, res, path, caller)
    return handleApi(hub, req, res, path, caller)
  }
  const target = repoPath(pathname)
  if (!target) throw new HubHttpError(404, 'NOT_FOUND', 'not found')
  const caller = await callerOf(hub, req)
  const git = gitService(target.rest, url.searchParams)
  if (git) {
    const { repo } = await authorize(
      hub,
      caller,
      target.owner,
      target.name,
      git.write ? 'write' : 'read',
    )
    const code = await serveGit(
      { hub, repo, caller, rest: target.rest, query: url.search.slice(1) },
      req,
      res,
    )
    if (git.service === 'receive-pack' && code === 0) {
      pushThrough(hub, repo)
      // Deployments of the pushed branches get their versions; builds run in the background.
      void scheduleApply(hub, repo)
    }
    return
  }
  if (target.rest === 'mirror/webhook' && req.method === 'POST') {
    return mirrorWebhook(hub, req, res, target)
  }
  if (target.rest.startsWith('mlvc/')) {
    const rest = target.rest.slice('mlvc/'.length)
    const key = rest.startsWith('objects/') ? rest.slice('objects/'.length) : undefined
    const need = neededRole(req.method ?? 'GET', rest === 'have' ? undefined : key)
    const { repo, role } = await authorize(
      hub,
      caller,
      target.owner,
      target.name,
      need === 'admin' ? 'write' : need,
    )
    return handleObjects({ hub, repo, role, rest, query: url.searchParams }, req, res)
  }
  throw new HubHttpError(404, 'NOT_FOUND', 'not found')
}

/**
 * Starts the hub's HTTP server. Limits: request headers (size and the time to send them), an idle
 * timeout per connection (a stalled client is dropped; it holds no lock and blocks nobody: every
 * request runs on its own), and body sizes per kind of request (config.ts).
 */
export async function startHub(config: HubConfig, options: StartOptions): Promise<RunningHub> {
  const log = options.log
  const hub = await openHub(config, log)
  await writeHooks(config, options.hookCommand)
  let assets: Promise<WebAssets> | undefined
  const web = () => {
    assets ??= loadWebAssets()
    assets.catch(() => {
      assets = undefined
    })
    return assets
  }
  await resumeDeployments(hub, (id) => repoById(hub.db, id))
  const server = createServer(
    {
      maxHeaderSize: config.limits.headerBytes,
      headersTimeout: config.limits.headersTimeoutMs,
      requestTimeout: 0,
      // How often Node looks for requests past headersTimeout (its default, 30 s, would let a
      // stalled client hold a connection for up to 40 s).
      connectionsCheckingInterval: Math.max(
        100,
        Math.min(5000, config.limits.headersTimeoutMs / 4),
      ),
    },
    (req, res) => {
      const id = randomUUID().slice(0, 8)
      const started = Date.now()
      res.on('finish', () =>
        hub.log.info('request', {
          id,
          method: req.method,
          path: (req.url ?? '').split('?')[0],
          status: res.statusCode,
          ms: Date.now() - started,
        }),
      )
      route(hub, req, res, web).catch((err: unknown) => {
        const error = err instanceof Error ? err.message : String(err)
        // (Not req.destroyed: a request whose body was read to its end is destroyed too.)
        if (res.destroyed || req.socket.destroyed) {
          // The connection closed under the request (the client went away, or stayed idle past
          // limits.idleTimeoutMs): nothing to answer, and not the hub's failure.
          hub.log.warn('connection closed during the request', { id, error })
          return
        }
        if (statusOf(err) >= 500) hub.log.error('request failed', { id, error })
        // The web app marks its requests (X-Requested-With): they get no Basic challenge.
        sendError(res, err, req.headers['x-requested-with'] === undefined)
        // Whatever of the body was not read is not worth waiting for.
        if (!req.complete) req.resume()
      })
    },
  )
  server.setTimeout(config.limits.idleTimeoutMs, (socket) => socket.destroy())
  await new Promise<void>((done, fail) => {
    server.once('error', fail)
    server.listen(config.port, config.host, () => done())
  })
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`
  hub.log.info('hub listening', { url, data: config.data, database: hub.db.kind })
  let pulling = false
  const schedule =
    config.mirrorIntervalMs > 0
      ? setInterval(
          () => {
            if (pulling) return
            pulling = true
            pullDueMirrors(hub)
              .catch((err: unknown) =>
                hub.log.error('mirror schedule failed', { error: String(err) }),
              )
              .finally(() => {
                pulling = false
              })
          },
          Math.min(config.mirrorIntervalMs, 60_000),
        )
      : undefined
  schedule?.unref()
  return {
    hub,
    server,
    url,
    close: async () => {
      if (schedule) clearInterval(schedule)
      const closed = new Promise<void>((done) => server.close(() => done()))
      server.closeAllConnections()
      await closed
      await closeDeployments(hub)
      await hub.close()
    },
  }
}
