import { MlvcError } from '../core/index.ts'
import { type Db, isUniqueViolation } from './db.ts'
import { newId } from './ids.ts'
import { checkName, type Role, rank } from './names.ts'

export interface Account {
  id: string
  name: string
  kind: 'user' | 'org'
  admin: boolean
  created: number
}

export interface Repo {
  id: string
  owner: string
  ownerId: string
  name: string
  private: boolean
  created: number
}

interface AccountRow {
  [k: string]: string | number | null
  id: string
  name: string
  kind: string
  admin: number
  created: number
}

interface RepoRow {
  [k: string]: string | number | null
  id: string
  owner_id: string
  owner: string
  name: string
  private: number
  created: number
}

function toAccount(row: AccountRow): Account {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind === 'org' ? 'org' : 'user',
    admin: Number(row.admin) === 1,
    created: Number(row.created),
  }
}

function toRepo(row: RepoRow): Repo {
  return {
    id: row.id,
    owner: row.owner,
    ownerId: row.owner_id,
    name: row.name,
    private: Number(row.private) === 1,
    created: Number(row.created),
  }
}

function taken(what: string, name: string, err: unknown): MlvcError {
  return new MlvcError('EXISTS', `${what} ${name} already exists`, {
    cause: err,
    hint: 'choose another name',
  })
}

export async function addAccount(
  db: Db,
  input: { name: string; kind: 'user' | 'org'; admin?: boolean },
): Promise<Account> {
  checkName(input.name, input.kind === 'org' ? 'organization' : 'user')
  const row: AccountRow = {
    id: newId(input.kind === 'org' ? 'o' : 'u'),
    name: input.name,
    kind: input.kind,
    admin: input.admin ? 1 : 0,
    created: Date.now(),
  }
  try {
    // Names are unique whatever their case: "Ada" and "ada" would be one person to a reader.
    const clash = await db.get('SELECT id FROM accounts WHERE lower(name) = lower(?)', [input.name])
    if (clash) throw taken('account', input.name, undefined)
    await db.run('INSERT INTO accounts (id, name, kind, admin, created) VALUES (?, ?, ?, ?, ?)', [
      row.id,
      row.name,
      row.kind,
      row.admin,
      row.created,
    ])
  } catch (err) {
    if (isUniqueViolation(err)) throw taken('account', input.name, err)
    throw err
  }
  return toAccount(row)
}

export async function findAccount(db: Db, name: string): Promise<Account | undefined> {
  const row = await db.get<AccountRow>('SELECT * FROM accounts WHERE name = ?', [name])
  return row ? toAccount(row) : undefined
}

export async function accountById(db: Db, id: string): Promise<Account | undefined> {
  const row = await db.get<AccountRow>('SELECT * FROM accounts WHERE id = ?', [id])
  return row ? toAccount(row) : undefined
}

export async function requireAccount(db: Db, name: string): Promise<Account> {
  const account = await findAccount(db, name)
  if (!account)
    throw new MlvcError('NOT_FOUND', `no user or organization named ${name} on this hub`)
  return account
}

export async function listAccounts(db: Db): Promise<Account[]> {
  return (await db.all<AccountRow>('SELECT * FROM accounts ORDER BY name')).map(toAccount)
}

export async function setMember(db: Db, org: Account, user: Account, role: Role): Promise<void> {
  if (org.kind !== 'org' || user.kind !== 'user') {
    throw new MlvcError(
      'USAGE',
      `${user.name} can only join an organization, and ${org.name} is not one`,
    )
  }
  await db.transaction(async (tx) => {
    await tx.run('DELETE FROM members WHERE org_id = ? AND user_id = ?', [org.id, user.id])
    await tx.run('INSERT INTO members (org_id, user_id, role) VALUES (?, ?, ?)', [
      org.id,
      user.id,
      role,
    ])
  })
}

const REPO_SELECT =
  'SELECT r.id, r.owner_id, a.name AS owner, r.name, r.private, r.created FROM repos r JOIN accounts a ON a.id = r.owner_id'

export async function createRepo(
  db: Db,
  input: { owner: Account; name: string; private: boolean },
): Promise<Repo> {
  checkName(input.name, 'repository')
  const repo: Repo = {
    id: newId('r'),
    owner: input.owner.name,
    ownerId: input.owner.id,
    name: input.name,
    private: input.private,
    created: Date.now(),
  }
  try {
    const clash = await db.get(
      'SELECT id FROM repos WHERE owner_id = ? AND lower(name) = lower(?)',
      [repo.ownerId, repo.name],
    )
    if (clash) throw taken('repository', `${repo.owner}/${repo.name}`, undefined)
    await db.run(
      'INSERT INTO repos (id, owner_id, name, private, created) VALUES (?, ?, ?, ?, ?)',
      [repo.id, repo.ownerId, repo.name, repo.private ? 1 : 0, repo.created],
    )
  } catch (err) {
    if (isUniqueViolation(err)) throw taken('repository', `${repo.owner}/${repo.name}`, err)
    throw err
  }
  return repo
}

export async function findRepo(db: Db, owner: string, name: string): Promise<Repo | undefined> {
  const row = await db.get<RepoRow>(`${REPO_SELECT} WHERE a.name = ? AND r.name = ?`, [owner, name])
  return row ? toRepo(row) : undefined
}

export async function repoById(db: Db, id: string): Promise<Repo | undefined> {
  const row = await db.get<RepoRow>(`${REPO_SELECT} WHERE r.id = ?`, [id])
  return row ? toRepo(row) : undefined
}

export async function listRepos(db: Db): Promise<Repo[]> {
  return (await db.all<RepoRow>(`${REPO_SELECT} ORDER BY a.name, r.name`)).map(toRepo)
}

export async function grantRole(
  db: Db,
  repo: Repo,
  user: Account,
  role: Role | undefined,
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.run('DELETE FROM grants WHERE repo_id = ? AND user_id = ?', [repo.id, user.id])
    if (role) {
      await tx.run('INSERT INTO grants (repo_id, user_id, role) VALUES (?, ?, ?)', [
        repo.id,
        user.id,
        role,
      ])
    }
  })
}

/**
 * What `user` (undefined: anonymous) may do with `repo`, before any token scope: site admins and
 * the owning user are admins; an organization's members have their member role; a grant gives its
 * role; anyone may read a public repository.
 */
export async function repoRole(
  db: Db,
  user: Account | undefined,
  repo: Repo,
): Promise<Role | undefined> {
  let best: Role | undefined = repo.private ? undefined : 'read'
  if (!user) return best
  if (user.admin || user.id === repo.ownerId) return 'admin'
  const rows = await db.all<{ role: string }>(
    'SELECT role FROM members WHERE org_id = ? AND user_id = ? UNION ALL SELECT role FROM grants WHERE repo_id = ? AND user_id = ?',
    [repo.ownerId, user.id, repo.id, user.id],
  )
  for (const { role } of rows) {
    if (role === 'read' || role === 'write' || role === 'admin') {
      if (rank(role) > rank(best)) best = role
    }
  }
  return best
}
