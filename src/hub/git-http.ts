import { spawn } from 'node:child_process'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { join } from 'node:path'
import type { Repo } from './accounts.ts'
import { HubHttpError } from './http.ts'
import type { Hub } from './hub.ts'
import type { Caller } from './tokens.ts'

/** The smart-HTTP paths Git asks for under a repository's URL (the dumb protocol is not served). */
export type GitService = 'info-refs' | 'upload-pack' | 'receive-pack'

export function gitService(
  rest: string,
  query: URLSearchParams,
): { service: GitService; write: boolean } | undefined {
  if (rest === 'info/refs') {
    const service = query.get('service')
    if (service === 'git-upload-pack') return { service: 'info-refs', write: false }
    if (service === 'git-receive-pack') return { service: 'info-refs', write: true }
    return undefined
  }
  if (rest === 'git-upload-pack') return { service: 'upload-pack', write: false }
  if (rest === 'git-receive-pack') return { service: 'receive-pack', write: true }
  return undefined
}

/** Git's protocol header: `version=2` and the like; anything else is dropped, not passed to git. */
function protocolHeader(req: IncomingMessage): string | undefined {
  const value = req.headers['git-protocol']
  return typeof value === 'string' && /^[A-Za-z0-9=:._-]{1,200}$/.test(value) ? value : undefined
}

/**
 * What git and the hub's hooks inherit from the hub's environment: everything but Git's own
 * variables (a GIT_DIR or GIT_CONFIG_* of the hub's caller must not steer the repositories' git).
 * The hooks need the rest: the S3 SDK's credentials (AWS_*) and proxies when objects are in S3.
 */
export function hookEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env))
    if (!key.startsWith('GIT_')) env[key] = value
  return env
}

export interface GitRequest {
  hub: Hub
  repo: Repo
  caller: Caller | undefined
  /** What follows the repository in the URL: info/refs, git-upload-pack, git-receive-pack. */
  rest: string
  query: string
}

/**
 * Serves one smart-HTTP request through `git http-backend` (CGI): the request body streams into
 * it, its output streams back. A push runs the hub's hooks (`core.hooksPath`), whose pre-receive
 * refuses commits whose mlvc objects the hub lacks (gate.ts). Git itself keeps a push whole: the
 * pushed objects wait in a quarantine folder and refs move only after the hooks accept, so a
 * killed hub leaves the repository as it was. Resolves to git's exit status.
 */
export function serveGit(
  request: GitRequest,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<number> {
  const { hub, repo, caller } = request
  const env: NodeJS.ProcessEnv = {
    ...hookEnvironment(),
    LANG: 'C.UTF-8',
    GIT_PROJECT_ROOT: join(hub.config.data, 'repos'),
    GIT_HTTP_EXPORT_ALL: '1',
    GIT_HTTP_MAX_REQUEST_BUFFER: String(64 * 1024 * 1024),
    PATH_INFO: `/${repo.id}.git/${request.rest}`,
    QUERY_STRING: request.query,
    REQUEST_METHOD: req.method ?? 'GET',
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    REMOTE_USER: caller?.user.name ?? '',
    REMOTE_ADDR: req.socket.remoteAddress ?? '',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_COUNT: '2',
    GIT_CONFIG_KEY_0: 'core.hooksPath',
    GIT_CONFIG_VALUE_0: join(hub.config.data, 'hooks'),
    GIT_CONFIG_KEY_1: 'receive.fsckObjects',
    GIT_CONFIG_VALUE_1: 'true',
    MLVC_HUB_DATA: hub.config.data,
    MLVC_HUB_REPO: repo.id,
    MLVC_HUB_REPO_NAME: `${repo.owner}/${repo.name}`,
    ...(hub.config.objects ? { MLVC_HUB_OBJECTS: JSON.stringify(hub.config.objects) } : {}),
  }
  const protocol = protocolHeader(req)
  if (protocol) env.GIT_PROTOCOL = protocol
  const encoding = req.headers['content-encoding']
  if (encoding === 'gzip') env.HTTP_CONTENT_ENCODING = 'gzip'
  const length = req.headers['content-length']
  if (length !== undefined) env.CONTENT_LENGTH = length
  if (length !== undefined && Number(length) > hub.config.limits.gitBytes) {
    throw new HubHttpError(413, 'USAGE', 'push too large for this hub (limits.gitBytes)')
  }
  const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] })
  let received = 0
  req.on('data', (part: Buffer) => {
    received += part.length
    if (received > hub.config.limits.gitBytes) {
      req.destroy()
      child.kill('SIGTERM')
    }
  })
  req.pipe(child.stdin)
  child.stdin.on('error', () => undefined)
  req.on('aborted', () => child.kill('SIGTERM'))
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 4096) stderr += d.toString()
  })
  return new Promise((done, fail) => {
    let head = Buffer.alloc(0)
    let started = false
    const onData = (part: Buffer) => {
      if (started) {
        if (!res.write(part)) {
          child.stdout.pause()
          res.once('drain', () => child.stdout.resume())
        }
        return
      }
      head = Buffer.concat([head, part])
      const end = headerEnd(head)
      if (end === undefined) return
      started = true
      const { status, headers } = parseCgiHeaders(head.subarray(0, end.at).toString('latin1'))
      res.writeHead(status, headers)
      const body = head.subarray(end.at + end.length)
      if (body.length > 0) res.write(body)
    }
    child.stdout.on('data', onData)
    child.on('error', fail)
    child.on('close', (code) => {
      if (!started) {
        hub.log.error('git http-backend failed', { repo: repo.id, code: code ?? -1, stderr })
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
        res.end('git http-backend failed\n')
      } else res.end()
      if (code !== 0 && stderr)
        hub.log.warn('git http-backend', { repo: repo.id, code: code ?? -1, stderr })
      done(code ?? -1)
    })
  })
}

function headerEnd(buf: Buffer): { at: number; length: number } | undefined {
  const crlf = buf.indexOf('\r\n\r\n')
  const lf = buf.indexOf('\n\n')
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { at: crlf, length: 4 }
  if (lf >= 0) return { at: lf, length: 2 }
  return undefined
}

function parseCgiHeaders(text: string): { status: number; headers: Record<string, string> } {
  let status = 200
  const headers: Record<string, string> = {}
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    if (name === 'status') status = Number(value.split(' ')[0]) || 500
    else headers[name] = value
  }
  return { status, headers }
}
