import type { IncomingMessage } from 'node:http'
import { findRepo, type Repo, repoRole } from './accounts.ts'
import { HubHttpError } from './http.ts'
import type { Hub } from './hub.ts'
import { lowerRole, type Role, rank } from './names.ts'
import { authenticate, type Caller } from './tokens.ts'

/**
 * Who is calling: undefined without credentials; 401 for credentials that are wrong, revoked or
 * expired (never a silent downgrade to anonymous). HTTP Basic (user + token: what Git's credential
 * helpers send) or Bearer (the token alone).
 */
export async function callerOf(hub: Hub, req: IncomingMessage): Promise<Caller | undefined> {
  const header = req.headers.authorization
  if (header === undefined) return undefined
  const [scheme = '', value = ''] = header.split(/\s+/, 2)
  let caller: Caller | undefined
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon >= 0)
      caller = await authenticate(hub.db, decoded.slice(colon + 1), decoded.slice(0, colon))
  } else if (scheme.toLowerCase() === 'bearer') {
    caller = await authenticate(hub.db, value)
  }
  if (!caller)
    throw new HubHttpError(
      401,
      'PERMISSION',
      'bad credentials: unknown, revoked or expired token',
      {
        hint: 'create a token (mlvc hub token create) and log in again (mlvc login URL)',
      },
    )
  return caller
}

/** What a caller may do with a repository: their role, capped by the token's scope and repository. */
export async function roleOf(
  hub: Hub,
  caller: Caller | undefined,
  repo: Repo,
): Promise<Role | undefined> {
  const role = await repoRole(hub.db, caller?.user, repo)
  if (!caller) return role
  if (caller.token.repoId !== undefined && caller.token.repoId !== repo.id) {
    return repo.private ? undefined : 'read'
  }
  return lowerRole(role, caller.token.scope)
}

export function requireCaller(caller: Caller | undefined): Caller {
  if (!caller)
    throw new HubHttpError(401, 'PERMISSION', 'this needs a token', {
      hint: 'send Authorization: Bearer TOKEN',
    })
  return caller
}

/**
 * The repository OWNER/NAME if the caller may do `need` with it. A repository the caller may not
 * read answers exactly as one that does not exist (404, or 401 to an anonymous caller so that Git
 * asks for credentials), so that private names never leak. Readers who may not write get 403.
 */
export async function authorize(
  hub: Hub,
  caller: Caller | undefined,
  owner: string,
  name: string,
  need: Role,
): Promise<{ repo: Repo; role: Role }> {
  const repo = await findRepo(hub.db, owner, name)
  const role = repo ? await roleOf(hub, caller, repo) : undefined
  if (!repo || role === undefined) {
    if (!caller)
      throw new HubHttpError(401, 'PERMISSION', `${owner}/${name}: authentication required`, {
        hint: 'log in first: mlvc login URL',
      })
    throw new HubHttpError(404, 'NOT_FOUND', `no repository ${owner}/${name} on this hub`)
  }
  if (rank(role) < rank(need)) {
    if (!caller)
      throw new HubHttpError(401, 'PERMISSION', `${owner}/${name}: ${need} access needs a token`, {
        hint: 'log in first: mlvc login URL',
      })
    throw new HubHttpError(
      403,
      'PERMISSION',
      `${caller.user.name} may not ${need === 'read' ? 'read' : need === 'write' ? 'write to' : 'administer'} ${owner}/${name}`,
      {
        hint:
          caller.token.scope !== 'admin'
            ? `the token's scope is ${caller.token.scope}; an owner can grant more`
            : 'ask an admin of the repository for access',
      },
    )
  }
  return { repo, role }
}
