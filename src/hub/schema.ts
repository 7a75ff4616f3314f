import type { Db } from './db.ts'

/**
 * The schema, as migrations applied in order and recorded in `hub_migrations`; a released
 * migration is never edited, only followed by a new one. Portable SQL only (see db.ts).
 */
const MIGRATIONS: readonly string[][] = [
  [
    `CREATE TABLE accounts (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      kind TEXT NOT NULL,
      admin INTEGER NOT NULL DEFAULT 0,
      created BIGINT NOT NULL
    )`,
    `CREATE TABLE members (
      org_id TEXT NOT NULL REFERENCES accounts(id),
      user_id TEXT NOT NULL REFERENCES accounts(id),
      role TEXT NOT NULL,
      PRIMARY KEY (org_id, user_id)
    )`,
    `CREATE TABLE repos (
      id TEXT PRIMARY KEY,
      owner_id TEXT NOT NULL REFERENCES accounts(id),
      name TEXT NOT NULL,
      private INTEGER NOT NULL,
      created BIGINT NOT NULL,
      UNIQUE (owner_id, name)
    )`,
    `CREATE TABLE grants (
      repo_id TEXT NOT NULL REFERENCES repos(id),
      user_id TEXT NOT NULL REFERENCES accounts(id),
      role TEXT NOT NULL,
      PRIMARY KEY (repo_id, user_id)
    )`,
    `CREATE TABLE tokens (
      id TEXT PRIMARY KEY,
      user_id TEXT NOT NULL REFERENCES accounts(id),
      hash TEXT NOT NULL UNIQUE,
      name TEXT NOT NULL,
      scope TEXT NOT NULL,
      repo_id TEXT REFERENCES repos(id),
      created BIGINT NOT NULL,
      expires BIGINT,
      revoked BIGINT
    )`,
    'CREATE INDEX tokens_user ON tokens (user_id)',
  ],
  [
    `CREATE TABLE mirrors (
      repo_id TEXT PRIMARY KEY REFERENCES repos(id),
      url TEXT NOT NULL,
      username TEXT,
      secret TEXT,
      webhook_hash TEXT,
      interval_ms BIGINT NOT NULL,
      last_sync BIGINT,
      last_error TEXT
    )`,
    `CREATE TABLE mirror_conflicts (
      repo_id TEXT NOT NULL REFERENCES repos(id),
      ref TEXT NOT NULL,
      hub_sha TEXT NOT NULL,
      mirror_sha TEXT NOT NULL,
      found BIGINT NOT NULL,
      PRIMARY KEY (repo_id, ref)
    )`,
  ],
  [
    // Web sign-in (session.ts): a password per user (scrypt), and sessions that each hold a token
    // of their own (revoked at sign-out) and a CSRF secret. The cookie's secret is stored as its
    // hash; the CSRF secret is no credential without the cookie and is stored as it is.
    `CREATE TABLE passwords (
      user_id TEXT PRIMARY KEY REFERENCES accounts(id),
      hash TEXT NOT NULL,
      changed BIGINT NOT NULL
    )`,
    `CREATE TABLE sessions (
      id TEXT PRIMARY KEY,
      hash TEXT NOT NULL UNIQUE,
      token_id TEXT NOT NULL REFERENCES tokens(id),
      csrf TEXT NOT NULL,
      created BIGINT NOT NULL,
      expires BIGINT NOT NULL
    )`,
  ],
  [
    // Deployments (deploy-apply.ts): the branch heads already applied, the versions made from
    // them, and the environment builds they share (by the hash of their dependency files).
    `CREATE TABLE deploy_heads (
      repo_id TEXT NOT NULL REFERENCES repos(id),
      branch TEXT NOT NULL,
      commit_sha TEXT NOT NULL,
      applied BIGINT NOT NULL,
      PRIMARY KEY (repo_id, branch)
    )`,
    `CREATE TABLE deploy_versions (
      id TEXT PRIMARY KEY,
      repo_id TEXT NOT NULL REFERENCES repos(id),
      branch TEXT NOT NULL,
      deployment TEXT NOT NULL,
      number INTEGER NOT NULL,
      commit_sha TEXT NOT NULL,
      inputs_hash TEXT NOT NULL,
      deps_hash TEXT NOT NULL,
      runtime TEXT NOT NULL,
      target TEXT NOT NULL,
      status TEXT NOT NULL,
      error TEXT,
      created BIGINT NOT NULL,
      ready BIGINT,
      UNIQUE (repo_id, branch, deployment, number)
    )`,
    'CREATE INDEX deploy_versions_repo ON deploy_versions (repo_id, branch, deployment)',
    `CREATE TABLE deploy_builds (
      deps_hash TEXT PRIMARY KEY,
      runtime TEXT NOT NULL,
      status TEXT NOT NULL,
      error TEXT,
      started BIGINT NOT NULL,
      finished BIGINT
    )`,
  ],
]

/** Brings the database to the newest schema; safe when several hub processes start at once. */
export async function migrate(db: Db): Promise<number> {
  return db.exclusive(async () => {
    await db.run(
      'CREATE TABLE IF NOT EXISTS hub_migrations (version INTEGER PRIMARY KEY, applied BIGINT NOT NULL)',
    )
    const done = new Set(
      (await db.all<{ version: number }>('SELECT version FROM hub_migrations')).map((r) =>
        Number(r.version),
      ),
    )
    let applied = 0
    for (const [i, statements] of MIGRATIONS.entries()) {
      const version = i + 1
      if (done.has(version)) continue
      await db.transaction(async (tx) => {
        for (const sql of statements) await tx.run(sql)
        await tx.run('INSERT INTO hub_migrations (version, applied) VALUES (?, ?)', [
          version,
          Date.now(),
        ])
      })
      applied++
    }
    return applied
  })
}

export const SCHEMA_VERSION = MIGRATIONS.length
