import { createRequire } from 'node:module'
import type * as Pg from 'pg'
import { type Db, numberPlaceholders, type Row, type SqlValue } from './db.ts'

/** Any constant: the advisory lock that keeps migrations of several hub processes apart. */
const MIGRATION_LOCK = 4_151_203

/** PostgreSQL through a pool of `pg` connections (`url`: postgres://user@host:port/db). */
export function postgresDb(url: string, options: { max?: number } = {}): Db {
  const pg = createRequire(import.meta.url)('pg') as typeof Pg
  // BIGINT columns hold millisecond times, well inside a double's exact integers.
  pg.types.setTypeParser(20, (v: string) => Number(v))
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 8 })
  pool.on('error', () => undefined)
  const on = (client: Pg.Pool | Pg.PoolClient): Db => ({
    kind: 'postgres',
    all: async <T extends Row>(sql: string, params: readonly SqlValue[] = []) =>
      (await client.query(numberPlaceholders(sql), [...params])).rows as T[],
    get: async <T extends Row>(sql: string, params: readonly SqlValue[] = []) =>
      (await client.query(numberPlaceholders(sql), [...params])).rows[0] as T | undefined,
    run: async (sql, params = []) =>
      (await client.query(numberPlaceholders(sql), [...params])).rowCount ?? 0,
    transaction: async (body) => {
      if (client !== pool) return body(on(client))
      const conn = await pool.connect()
      try {
        await conn.query('BEGIN')
        const result = await body(on(conn))
        await conn.query('COMMIT')
        return result
      } catch (err) {
        await conn.query('ROLLBACK').catch(() => undefined)
        throw err
      } finally {
        conn.release()
      }
    },
    exclusive: async (body) => {
      const conn = await pool.connect()
      try {
        await conn.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK])
        return await body()
      } finally {
        await conn.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined)
        conn.release()
      }
    },
    close: () => pool.end(),
  })
  return on(pool)
}
