import { MlvcError } from '../core/index.ts'
import type { Account } from './accounts.ts'
import { accountById } from './accounts.ts'
import type { Db } from './db.ts'
import { newId, newSecret, secretHash } from './ids.ts'
import type { Role } from './names.ts'

export interface TokenInfo {
  id: string
  user: string
  name: string
  /** The most it allows, whatever its user may do. */
  scope: Role
  /** The one repository it is good for (its id), or undefined for all its user's. */
  repoId: string | undefined
  created: number
  expires: number | undefined
  revoked: number | undefined
}

interface TokenRow {
  [k: string]: string | number | null
  id: string
  user_id: string
  name: string
  scope: string
  repo_id: string | null
  created: number
  expires: number | null
  revoked: number | null
}

function toInfo(row: TokenRow, user: string): TokenInfo {
  return {
    id: row.id,
    user,
    name: row.name,
    scope: row.scope === 'admin' || row.scope === 'write' ? row.scope : 'read',
    repoId: row.repo_id ?? undefined,
    created: Number(row.created),
    expires: row.expires === null ? undefined : Number(row.expires),
    revoked: row.revoked === null ? undefined : Number(row.revoked),
  }
}

export interface NewToken {
  user: Account
  name: string
  scope: Role
  repoId?: string | undefined
  /** Lifetime in ms; undefined: it never expires. */
  ttlMs?: number | undefined
}

/** Creates a token; the secret is returned this once and stored only as its hash. */
export async function createToken(
  db: Db,
  input: NewToken,
): Promise<TokenInfo & { secret: string }> {
  if (input.user.kind !== 'user') {
    throw new MlvcError('USAGE', `${input.user.name} is an organization: tokens belong to users`)
  }
  const secret = newSecret()
  const now = Date.now()
  const row: TokenRow = {
    id: newId('t'),
    user_id: input.user.id,
    name: input.name,
    scope: input.scope,
    repo_id: input.repoId ?? null,
    created: now,
    expires: input.ttlMs === undefined ? null : now + input.ttlMs,
    revoked: null,
  }
  await db.run(
    'INSERT INTO tokens (id, user_id, hash, name, scope, repo_id, created, expires, revoked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    [
      row.id,
      row.user_id,
      secretHash(secret),
      row.name,
      row.scope,
      row.repo_id,
      row.created,
      row.expires,
      null,
    ],
  )
  return { ...toInfo(row, input.user.name), secret }
}

export async function listTokens(db: Db, user: Account): Promise<TokenInfo[]> {
  const rows = await db.all<TokenRow>('SELECT * FROM tokens WHERE user_id = ? ORDER BY created', [
    user.id,
  ])
  return rows.map((r) => toInfo(r, user.name))
}

/** Revokes one of `user`'s tokens (by id); NOT_FOUND when it has none of that id. */
export async function revokeToken(db: Db, user: Account, id: string): Promise<void> {
  const changed = await db.run(
    'UPDATE tokens SET revoked = ? WHERE id = ? AND user_id = ? AND revoked IS NULL',
    [Date.now(), id, user.id],
  )
  if (changed === 0) {
    const exists = await db.get('SELECT id FROM tokens WHERE id = ? AND user_id = ?', [id, user.id])
    if (!exists)
      throw new MlvcError('NOT_FOUND', `${user.name} has no token ${id}`, {
        hint: 'mlvc hub token list shows them',
      })
  }
}

export interface Caller {
  user: Account
  token: TokenInfo
}

/**
 * The caller a secret names: undefined when the secret is unknown, revoked, expired, or belongs to
 * someone other than `username` (when given: HTTP Basic sends one).
 */
export async function authenticate(
  db: Db,
  secret: string,
  username?: string,
): Promise<Caller | undefined> {
  const row = await db.get<TokenRow>('SELECT * FROM tokens WHERE hash = ?', [secretHash(secret)])
  if (!row || row.revoked !== null) return undefined
  if (row.expires !== null && Number(row.expires) <= Date.now()) return undefined
  const user = await accountById(db, row.user_id)
  if (!user) return undefined
  if (username !== undefined && username !== '' && username !== user.name) return undefined
  return { user, token: toInfo(row, user.name) }
}

/** The caller a token id names (a session's own token): undefined when revoked or expired. */
export async function callerByTokenId(db: Db, id: string): Promise<Caller | undefined> {
  const row = await db.get<TokenRow>('SELECT * FROM tokens WHERE id = ?', [id])
  if (!row || row.revoked !== null) return undefined
  if (row.expires !== null && Number(row.expires) <= Date.now()) return undefined
  const user = await accountById(db, row.user_id)
  return user ? { user, token: toInfo(row, user.name) } : undefined
}
