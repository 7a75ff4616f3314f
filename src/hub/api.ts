import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  type Account,
  addAccount,
  findAccount,
  grantRole,
  listRepos,
  type Repo,
  requireAccount,
  setMember,
} from './accounts.ts'
import { authorize, requireCaller, roleOf } from './auth.ts'
import { handleDeployApi, isDeployApi } from './deploy-http.ts'
import { booleanField, HubHttpError, readJson, sendJson, stringField } from './http.ts'
import { addRepo, type Hub } from './hub.ts'
import { mirrorStatus, setMirror, syncMirror } from './mirror.ts'
import { parseRole, type Role, rank } from './names.ts'
import { SCHEMA_VERSION } from './schema.ts'
import { type Caller, createToken, listTokens, revokeToken, type TokenInfo } from './tokens.ts'

export function repoJson(repo: Repo, role?: Role) {
  return {
    owner: repo.owner,
    name: repo.name,
    private: repo.private,
    created: new Date(repo.created).toISOString(),
    ...(role ? { role } : {}),
  }
}

export function tokenJson(token: TokenInfo) {
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString())
  return {
    id: token.id,
    user: token.user,
    name: token.name,
    scope: token.scope,
    repo: token.repoId ?? null,
    created: iso(token.created),
    expires: iso(token.expires),
    revoked: iso(token.revoked),
  }
}

function accountJson(account: Account) {
  return { name: account.name, kind: account.kind, admin: account.admin }
}

/** A whole number of seconds from a JSON body, or undefined. */
function seconds(body: Record<string, unknown>, key: string): number | undefined {
  const value = body[key]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new HubHttpError(
      400,
      'USAGE',
      `field "${key}" must be a positive whole number of seconds`,
    )
  }
  return value
}

function requireSiteAdmin(caller: Caller): void {
  if (!caller.user.admin || caller.token.scope !== 'admin') {
    throw new HubHttpError(
      403,
      'PERMISSION',
      `${caller.user.name} is not a hub admin (or the token's scope is not admin)`,
    )
  }
}

async function createRepoFor(hub: Hub, caller: Caller, body: Record<string, unknown>) {
  const name = stringField(body, 'name', true)
  const ownerName = stringField(body, 'owner') ?? caller.user.name
  const owner = await requireAccount(hub.db, ownerName)
  if (rank(caller.token.scope) < rank('write')) {
    throw new HubHttpError(
      403,
      'PERMISSION',
      `the token's scope (${caller.token.scope}) cannot create repositories`,
    )
  }
  if (owner.id !== caller.user.id && !caller.user.admin) {
    const member = await hub.db.get<{ role: string }>(
      'SELECT role FROM members WHERE org_id = ? AND user_id = ?',
      [owner.id, caller.user.id],
    )
    if (owner.kind !== 'org' || !member || rank(parseRole(member.role)) < rank('admin')) {
      throw new HubHttpError(
        403,
        'PERMISSION',
        `${caller.user.name} may not create repositories for ${owner.name}`,
      )
    }
  }
  return addRepo(hub, { owner, name, private: booleanField(body, 'private') ?? true })
}

async function newToken(hub: Hub, caller: Caller, body: Record<string, unknown>) {
  const scope = parseRole(stringField(body, 'scope') ?? caller.token.scope, 'scope')
  // A token never mints a stronger one, nor one for other repositories than its own.
  if (rank(scope) > rank(caller.token.scope)) {
    throw new HubHttpError(
      403,
      'PERMISSION',
      `a ${caller.token.scope} token cannot create a ${scope} token`,
    )
  }
  let repoId = caller.token.repoId
  const repoName = stringField(body, 'repo')
  if (repoName !== undefined) {
    const [owner = '', name = ''] = repoName.split('/')
    const { repo } = await authorize(hub, caller, owner, name, 'read')
    if (repoId !== undefined && repoId !== repo.id)
      throw new HubHttpError(403, 'PERMISSION', 'this token is for another repository')
    repoId = repo.id
  }
  const ttl = seconds(body, 'expiresIn')
  return createToken(hub.db, {
    user: caller.user,
    name: stringField(body, 'name') ?? 'api',
    scope,
    repoId,
    ttlMs: ttl === undefined ? undefined : ttl * 1000,
  })
}

const ROUTES = [
  'GET health',
  'GET user',
  'POST users',
  'POST orgs',
  'PUT orgs/:/members/:',
  'GET repos',
  'POST repos',
  'GET repos/:/:',
  'PUT repos/:/:/collaborators/:',
  'PUT repos/:/:/mirror',
  'GET repos/:/:/mirror',
  'POST repos/:/:/mirror/sync',
  'GET tokens',
  'POST tokens',
  'DELETE tokens/:',
] as const

/** The route pattern a request matches (`:` stands for one path segment), or undefined. */
function routeOf(method: string, path: string[]): (typeof ROUTES)[number] | undefined {
  return ROUTES.find((route) => {
    const [m, pattern = ''] = route.split(' ')
    const parts = pattern.split('/')
    return (
      m === method &&
      parts.length === path.length &&
      parts.every((p, i) => p === ':' || p === path[i])
    )
  })
}

/** The JSON API under /api/v1 (docs/hub-api.md); `path` is what follows /api/v1. */
export async function handleApi(
  hub: Hub,
  req: IncomingMessage,
  res: ServerResponse,
  path: string[],
  caller: Caller | undefined,
): Promise<void> {
  const method = req.method ?? 'GET'
  const body =
    method === 'POST' || method === 'PUT' ? await readJson(req, hub.config.limits.jsonBytes) : {}
  const route = routeOf(method, path)
  switch (route) {
    case 'GET health':
      return sendJson(res, 200, { ok: true, schema: SCHEMA_VERSION, database: hub.db.kind })
    case 'GET user': {
      const me = requireCaller(caller)
      return sendJson(res, 200, { ...accountJson(me.user), token: tokenJson(me.token) })
    }
    case 'POST users': {
      const me = requireCaller(caller)
      requireSiteAdmin(me)
      const user = await addAccount(hub.db, {
        name: stringField(body, 'name', true),
        kind: 'user',
        admin: booleanField(body, 'admin') ?? false,
      })
      return sendJson(res, 201, accountJson(user))
    }
    case 'POST orgs': {
      const me = requireCaller(caller)
      if (rank(me.token.scope) < rank('write'))
        throw new HubHttpError(
          403,
          'PERMISSION',
          `the token's scope (${me.token.scope}) cannot create organizations`,
        )
      const org = await addAccount(hub.db, { name: stringField(body, 'name', true), kind: 'org' })
      await setMember(hub.db, org, me.user, 'admin')
      return sendJson(res, 201, accountJson(org))
    }
    case 'PUT orgs/:/members/:': {
      const me = requireCaller(caller)
      const org = await requireAccount(hub.db, path[1] ?? '')
      const mine = await hub.db.get<{ role: string }>(
        'SELECT role FROM members WHERE org_id = ? AND user_id = ?',
        [org.id, me.user.id],
      )
      if (!(me.user.admin || mine?.role === 'admin') || me.token.scope !== 'admin') {
        throw new HubHttpError(
          403,
          'PERMISSION',
          `${me.user.name} may not manage the members of ${org.name}`,
        )
      }
      const user = await requireAccount(hub.db, path[3] ?? '')
      await setMember(hub.db, org, user, parseRole(stringField(body, 'role', true)))
      return sendJson(res, 200, { org: org.name, user: user.name, role: body.role })
    }
    case 'GET repos': {
      const visible = []
      for (const repo of await listRepos(hub.db)) {
        const role = await roleOf(hub, caller, repo)
        if (role) visible.push(repoJson(repo, role))
      }
      return sendJson(res, 200, { repos: visible })
    }
    case 'POST repos': {
      const repo = await createRepoFor(hub, requireCaller(caller), body)
      return sendJson(res, 201, repoJson(repo, 'admin'))
    }
    case 'GET repos/:/:': {
      const { repo, role } = await authorize(hub, caller, path[1] ?? '', path[2] ?? '', 'read')
      return sendJson(res, 200, repoJson(repo, role))
    }
    case 'PUT repos/:/:/collaborators/:': {
      const { repo } = await authorize(hub, caller, path[1] ?? '', path[2] ?? '', 'admin')
      const user = await findAccount(hub.db, path[4] ?? '')
      if (user?.kind !== 'user')
        throw new HubHttpError(404, 'NOT_FOUND', `no user ${path[4]} on this hub`)
      const role = body.role === null ? undefined : parseRole(stringField(body, 'role', true))
      await grantRole(hub.db, repo, user, role)
      return sendJson(res, 200, {
        repo: `${repo.owner}/${repo.name}`,
        user: user.name,
        role: role ?? null,
      })
    }
    case 'PUT repos/:/:/mirror': {
      const { repo } = await authorize(hub, caller, path[1] ?? '', path[2] ?? '', 'admin')
      const interval = seconds(body, 'intervalSeconds')
      const { webhookSecret } = await setMirror(hub, repo, {
        url: stringField(body, 'url', true),
        username: stringField(body, 'username'),
        secret: stringField(body, 'password'),
        intervalMs: interval === undefined ? undefined : interval * 1000,
      })
      return sendJson(res, 200, { ...(await mirrorStatus(hub, repo)), webhookSecret })
    }
    case 'GET repos/:/:/mirror': {
      const { repo } = await authorize(hub, caller, path[1] ?? '', path[2] ?? '', 'read')
      const status = await mirrorStatus(hub, repo)
      if (!status)
        throw new HubHttpError(404, 'NOT_FOUND', `${repo.owner}/${repo.name} has no mirror`)
      return sendJson(res, 200, status)
    }
    case 'POST repos/:/:/mirror/sync': {
      const { repo } = await authorize(hub, caller, path[1] ?? '', path[2] ?? '', 'write')
      const status = await syncMirror(hub, repo)
      if (!status)
        throw new HubHttpError(404, 'NOT_FOUND', `${repo.owner}/${repo.name} has no mirror`)
      return sendJson(res, 200, status)
    }
    case 'GET tokens': {
      const me = requireCaller(caller)
      return sendJson(res, 200, { tokens: (await listTokens(hub.db, me.user)).map(tokenJson) })
    }
    case 'POST tokens': {
      const token = await newToken(hub, requireCaller(caller), body)
      return sendJson(res, 201, { ...tokenJson(token), secret: token.secret })
    }
    case 'DELETE tokens/:': {
      const me = requireCaller(caller)
      await revokeToken(hub.db, me.user, path[1] ?? '')
      return sendJson(res, 200, { revoked: path[1] })
    }
    default:
      if (isDeployApi(path)) return handleDeployApi(hub, req, res, path, caller, body)
      throw new HubHttpError(404, 'NOT_FOUND', `no API route ${method} /api/v1/${path.join('/')}`)
  }
}
