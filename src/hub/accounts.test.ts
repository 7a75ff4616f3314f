import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { tempDir } from '../test-helpers/index.ts'
import { addAccount, createRepo, grantRole, repoRole, setMember } from './accounts.ts'
import { numberPlaceholders } from './db.ts'
import { sqliteDb } from './db-sqlite.ts'
import { migrate, SCHEMA_VERSION } from './schema.ts'
import { authenticate, createToken, listTokens, revokeToken } from './tokens.ts'

const db = sqliteDb(join(tempDir('mlvc-hub-db'), 'hub.db'))
afterAll(() => db.close())

describe('the database layer', () => {
  test('placeholders become $n for PostgreSQL', () => {
    expect(numberPlaceholders('SELECT a FROM t WHERE b = ? AND c IN (?, ?)')).toBe(
      'SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)',
    )
  })

  test('migrations apply once', async () => {
    expect(await migrate(db)).toBe(SCHEMA_VERSION)
    expect(await migrate(db)).toBe(0)
  })

  test('a transaction that throws leaves nothing', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.run(
          'INSERT INTO accounts (id, name, kind, admin, created) VALUES (?, ?, ?, ?, ?)',
          ['u_x', 'ghost', 'user', 0, 1],
        )
        throw new Error('no')
      }),
    ).rejects.toThrow('no')
    expect(await db.get('SELECT id FROM accounts WHERE name = ?', ['ghost'])).toBeUndefined()
  })
})

describe('roles', () => {
  test('owner, organization member, grant, public and anonymous', async () => {
    const ada = await addAccount(db, { name: 'ada', kind: 'user' })
    const bob = await addAccount(db, { name: 'bob', kind: 'user' })
    const root = await addAccount(db, { name: 'root', kind: 'user', admin: true })
    const lab = await addAccount(db, { name: 'lab', kind: 'org' })
    const own = await createRepo(db, { owner: ada, name: 'own', private: true })
    const labRepo = await createRepo(db, { owner: lab, name: 'models', private: true })
    const open = await createRepo(db, { owner: ada, name: 'open', private: false })
    expect(await repoRole(db, ada, own)).toBe('admin')
    expect(await repoRole(db, root, own)).toBe('admin')
    expect(await repoRole(db, bob, own)).toBeUndefined()
    expect(await repoRole(db, undefined, own)).toBeUndefined()
    expect(await repoRole(db, undefined, open)).toBe('read')
    await grantRole(db, own, bob, 'write')
    expect(await repoRole(db, bob, own)).toBe('write')
    await grantRole(db, own, bob, undefined)
    expect(await repoRole(db, bob, own)).toBeUndefined()
    expect(await repoRole(db, bob, labRepo)).toBeUndefined()
    await setMember(db, lab, bob, 'read')
    expect(await repoRole(db, bob, labRepo)).toBe('read')
    await grantRole(db, labRepo, bob, 'admin')
    expect(await repoRole(db, bob, labRepo)).toBe('admin')
  })

  test('names are unique whatever their case; bad names are refused', async () => {
    await expect(addAccount(db, { name: 'ADA', kind: 'user' })).rejects.toMatchObject({
      code: 'EXISTS',
    })
    await expect(addAccount(db, { name: 'a..b', kind: 'user' })).rejects.toMatchObject({
      code: 'USAGE',
    })
  })
})

describe('tokens', () => {
  test('authenticate by secret (and user), not after revocation or expiry', async () => {
    const ada = await addAccount(db, { name: 'tina', kind: 'user' })
    const token = await createToken(db, { user: ada, name: 't', scope: 'read' })
    expect((await authenticate(db, token.secret, 'tina'))?.user.name).toBe('tina')
    expect(await authenticate(db, token.secret, 'bob')).toBeUndefined()
    expect(await authenticate(db, `${token.secret}x`)).toBeUndefined()
    const stored = await db.all<{ hash: string }>('SELECT hash FROM tokens')
    expect(stored.map((r) => r.hash)).not.toContain(token.secret)
    await revokeToken(db, ada, token.id)
    expect(await authenticate(db, token.secret)).toBeUndefined()
    await expect(revokeToken(db, ada, 't_nope')).rejects.toMatchObject({ code: 'NOT_FOUND' })
    const expired = await createToken(db, { user: ada, name: 'e', scope: 'read', ttlMs: -1 })
    expect(await authenticate(db, expired.secret)).toBeUndefined()
    expect((await listTokens(db, ada)).map((t) => t.name)).toEqual(['t', 'e'])
  })
})
