import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { type Account, findAccount } from './accounts.ts'
import { requireCaller } from './auth.ts'
import { HubHttpError, readJson, sendJson, stringField } from './http.ts'
import type { Hub } from './hub.ts'
import { newId, newSecret, secretHash } from './ids.ts'
import type { Role } from './names.ts'
import { authenticate, type Caller, callerByTokenId, createToken, revokeToken } from './tokens.ts'

/**
 * Web sessions: a browser signs in with a user and a password (or one of the user's tokens) and
 * gets a cookie that is `HttpOnly` (no script reads it) and `SameSite=Strict` (no other site's page
 * sends it). Each session holds a token of its own, created at sign-in with the scope of what
 * signed in and revoked at sign-out, so everything the hub checks for tokens holds for sessions.
 * Every state-changing request made with the cookie must also carry the session's CSRF secret in
 * `X-CSRF-Token`, which only the hub's own pages can read (from the sign-in answer).
 */
export const SESSION_COOKIE = 'mlvc_session'
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000
const MIN_PASSWORD = 10
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

interface SessionRow {
  [k: string]: string | number | null
  id: string
  token_id: string
  csrf: string
  expires: number
}

export interface Session {
  id: string
  caller: Caller
  csrf: string
  expires: number
}

function scryptHash(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((done, fail) =>
    scrypt(password, salt, 32, { N: 16384, r: 8, p: 1 }, (err, key) =>
      err ? fail(err) : done(key),
    ),
  )
}

/** `scrypt$SALT$HASH` (base64url), N=16384 r=8 p=1. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  return `scrypt$${salt.toString('base64url')}$${(await scryptHash(password, salt)).toString('base64url')}`
}

export async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const [kind, salt = '', hash = ''] = stored.split('$')
  if (kind !== 'scrypt') return false
  const want = Buffer.from(hash, 'base64url')
  const got = await scryptHash(password, Buffer.from(salt, 'base64url'))
  return want.length === got.length && timingSafeEqual(want, got)
}

/** Sets (or replaces) a user's password. */
export async function setPassword(hub: Hub, userId: string, password: string): Promise<void> {
  if (password.length < MIN_PASSWORD)
    throw new HubHttpError(400, 'USAGE', `a password needs at least ${MIN_PASSWORD} characters`)
  const hash = await hashPassword(password)
  const now = Date.now()
  await hub.db.transaction(async (tx) => {
    await tx.run('DELETE FROM passwords WHERE user_id = ?', [userId])
    await tx.run('INSERT INTO passwords (user_id, hash, changed) VALUES (?, ?, ?)', [
      userId,
      hash,
      now,
    ])
  })
}

const refused = () =>
  new HubHttpError(401, 'PERMISSION', 'sign-in refused: wrong user, password or token', {
    hint: 'a hub admin sets passwords; or sign in with a token (mlvc hub token create USER)',
  })

/** What a session may do: a user's full rights (password), or what the token it began with may. */
export interface Grant {
  user: Account
  scope: Role
  repoId?: string | undefined
  /** Never beyond the token's own expiry. */
  expires?: number | undefined
}

/** Who signs in: a user and a password, or a token (with its user's name, optional). */
async function signInGrant(hub: Hub, body: Record<string, unknown>): Promise<Grant> {
  const name = stringField(body, 'user') ?? ''
  const token = stringField(body, 'token')
  if (token !== undefined) {
    const caller = await authenticate(hub.db, token, name)
    if (!caller) throw refused()
    const { scope, repoId, expires } = caller.token
    return { user: caller.user, scope, repoId, expires }
  }
  const password = stringField(body, 'password', true)
  const user = await findAccount(hub.db, name)
  const row = user
    ? await hub.db.get<{ hash: string }>('SELECT hash FROM passwords WHERE user_id = ?', [user.id])
    : undefined
  // Unknown users cost a hash too, so timing does not tell which names exist.
  const ok = await passwordMatches(password, row?.hash ?? 'scrypt$AAAA$AAAA')
  if (user?.kind !== 'user' || !row || !ok) throw refused()
  return { user, scope: 'admin' }
}

/** Starts a session; returns it with the cookie's secret. */
export async function startSession(
  hub: Hub,
  grant: Grant,
): Promise<{ session: Session; secret: string }> {
  const now = Date.now()
  const expires = Math.min(now + SESSION_TTL_MS, grant.expires ?? Number.POSITIVE_INFINITY)
  const token = await createToken(hub.db, {
    user: grant.user,
    name: 'web session',
    scope: grant.scope,
    repoId: grant.repoId,
    ttlMs: expires - now,
  })
  await hub.db.run('DELETE FROM sessions WHERE expires <= ?', [now])
  const secret = newSecret()
  const session: Session = {
    id: newId('s'),
    caller: { user: grant.user, token },
    csrf: randomBytes(24).toString('base64url'),
    expires,
  }
  await hub.db.run(
    'INSERT INTO sessions (id, hash, token_id, csrf, created, expires) VALUES (?, ?, ?, ?, ?, ?)',
    [session.id, secretHash(secret), token.id, session.csrf, now, expires],
  )
  return { session, secret }
}

function cookieOf(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim()
  }
  return undefined
}

/** The session a request's cookie names, if it is live (its token not revoked or expired). */
export async function sessionOf(hub: Hub, req: IncomingMessage): Promise<Session | undefined> {
  const secret = cookieOf(req)
  if (!secret) return undefined
  const row = await hub.db.get<SessionRow>(
    'SELECT id, token_id, csrf, expires FROM sessions WHERE hash = ?',
    [secretHash(secret)],
  )
  if (!row || Number(row.expires) <= Date.now()) return undefined
  const caller = await callerByTokenId(hub.db, row.token_id)
  return caller ? { id: row.id, caller, csrf: row.csrf, expires: Number(row.expires) } : undefined
}

/**
 * A request a page of another site made: its Origin names another host than the one it was sent
 * to. Browsers send Origin with every POST, PUT and DELETE; tools such as curl send none.
 */
export function crossSite(req: IncomingMessage): boolean {
  const origin = req.headers.origin
  if (origin === undefined) return false
  try {
    return new URL(origin).host !== req.headers.host
  } catch {
    return true
  }
}

function refuseCrossSite(req: IncomingMessage): void {
  if (crossSite(req))
    throw new HubHttpError(403, 'PERMISSION', `a page of ${req.headers.origin} may not do this`, {
      hint: "sign in and act from the hub's own pages",
    })
}

function csrfMatches(req: IncomingMessage, session: Session): boolean {
  const sent = req.headers['x-csrf-token']
  if (typeof sent !== 'string') return false
  const a = Buffer.from(sent)
  const b = Buffer.from(session.csrf)
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * The caller of a request made with a session cookie (undefined without a live one). A
 * state-changing request without the session's CSRF secret is refused (403), never downgraded.
 */
export async function sessionCaller(hub: Hub, req: IncomingMessage): Promise<Caller | undefined> {
  const session = await sessionOf(hub, req)
  if (!session) return undefined
  if (SAFE_METHODS.has(req.method ?? 'GET')) return session.caller
  refuseCrossSite(req)
  if (!csrfMatches(req, session)) {
    throw new HubHttpError(403, 'PERMISSION', 'missing or wrong CSRF token for this session', {
      hint: 'send the csrf value of GET /api/v1/session in the X-CSRF-Token header',
    })
  }
  return session.caller
}

/** True when the browser reached the hub over HTTPS (directly, or through a proxy that says so). */
function overTls(req: IncomingMessage): boolean {
  const forwarded = req.headers['x-forwarded-proto']
  return (
    (req.socket as { encrypted?: boolean }).encrypted === true ||
    (typeof forwarded === 'string' && forwarded.split(',')[0]?.trim() === 'https')
  )
}

function setCookie(
  req: IncomingMessage,
  res: ServerResponse,
  value: string,
  maxAgeSeconds: number,
): void {
  const secure = overTls(req) ? '; Secure' : ''
  res.setHeader(
    'set-cookie',
    `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`,
  )
}

function sessionJson(session: Session) {
  return {
    user: session.caller.user.name,
    admin: session.caller.user.admin,
    scope: session.caller.token.scope,
    csrf: session.csrf,
    expires: new Date(session.expires).toISOString(),
  }
}

/** True for the routes `handleSession` answers (path: what follows /api/v1/). */
export function isSessionRoute(path: readonly string[]): boolean {
  return (
    (path.length === 1 && path[0] === 'session') ||
    (path.length === 2 && path[0] === 'user' && path[1] === 'password')
  )
}

/**
 * POST /session (sign in), GET /session (who is signed in, with the CSRF secret), DELETE /session
 * (sign out: the session and its token end), PUT /user/password (a signed-in user's own password;
 * the current one is needed to change it).
 */
export async function handleSession(
  hub: Hub,
  req: IncomingMessage,
  res: ServerResponse,
  path: readonly string[],
  caller: Caller | undefined,
): Promise<void> {
  const method = req.method ?? 'GET'
  if (path[0] === 'user') {
    if (method !== 'PUT') throw new HubHttpError(404, 'NOT_FOUND', 'no such route')
    const me = requireCaller(caller)
    const body = await readJson(req, hub.config.limits.jsonBytes)
    const had = await hub.db.get('SELECT user_id FROM passwords WHERE user_id = ?', [me.user.id])
    if (had) await signInGrant(hub, { user: me.user.name, password: body.current ?? '' })
    await setPassword(hub, me.user.id, stringField(body, 'password', true))
    return sendJson(res, 200, { user: me.user.name, password: 'set' })
  }
  if (method === 'POST') {
    // Another site's page must not sign a visitor in (into an account of its choosing).
    refuseCrossSite(req)
    const body = await readJson(req, hub.config.limits.jsonBytes)
    const { session, secret } = await startSession(hub, await signInGrant(hub, body))
    setCookie(req, res, secret, Math.floor((session.expires - Date.now()) / 1000))
    hub.log.info('signed in', { user: session.caller.user.name, session: session.id })
    return sendJson(res, 201, sessionJson(session))
  }
  const session = await sessionOf(hub, req)
  if (method === 'GET') return sendJson(res, 200, session ? sessionJson(session) : { user: null })
  if (method === 'DELETE') {
    req.resume()
    if (session) {
      if (!csrfMatches(req, session)) await sessionCaller(hub, req)
      await revokeToken(hub.db, session.caller.user, session.caller.token.id)
      await hub.db.run('DELETE FROM sessions WHERE id = ?', [session.id])
    }
    setCookie(req, res, '', 0)
    return sendJson(res, 200, { user: null })
  }
  throw new HubHttpError(404, 'NOT_FOUND', `no API route ${method} /api/v1/session`)
}
