import { createRequire } from 'node:module'
import type BetterSqlite3 from 'better-sqlite3'
import type { Db, Row, SqlValue } from './db.ts'

/**
 * The embedded database: one SQLite file (WAL, so readers do not wait for the writer). better-sqlite3
 * is synchronous; async callers are serialized through one queue so that a transaction's queries
 * never interleave with another request's.
 */
export function sqliteDb(path: string): Db {
  const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3
  const raw = new Database(path)
  raw.pragma('journal_mode = WAL')
  raw.pragma('busy_timeout = 5000')
  raw.pragma('foreign_keys = ON')
  const cache = new Map<string, BetterSqlite3.Statement>()
  const prepare = (sql: string) => {
    let statement = cache.get(sql)
    if (!statement) {
      statement = raw.prepare(sql)
      cache.set(sql, statement)
    }
    return statement
  }
  let queue: Promise<unknown> = Promise.resolve()
  const serial = <T>(body: () => Promise<T> | T): Promise<T> => {
    const next = queue.then(body, body)
    queue = next.catch(() => undefined)
    return next
  }
  const direct = {
    all: <T extends Row>(sql: string, params: readonly SqlValue[] = []) =>
      prepare(sql).all(params) as T[],
    get: <T extends Row>(sql: string, params: readonly SqlValue[] = []) =>
      prepare(sql).get(params) as T | undefined,
    run: (sql: string, params: readonly SqlValue[] = []) => prepare(sql).run(params).changes,
  }
  const inTx: Db = {
    kind: 'sqlite',
    all: async (sql, params) => direct.all(sql, params),
    get: async (sql, params) => direct.get(sql, params),
    run: async (sql, params) => direct.run(sql, params),
    transaction: (body) => body(inTx),
    exclusive: (body) => body(),
    close: async () => undefined,
  }
  return {
    kind: 'sqlite',
    all: (sql, params) => serial(() => direct.all(sql, params)),
    get: (sql, params) => serial(() => direct.get(sql, params)),
    run: (sql, params) => serial(() => direct.run(sql, params)),
    transaction: (body) =>
      serial(async () => {
        raw.exec('BEGIN IMMEDIATE')
        try {
          const result = await body(inTx)
          raw.exec('COMMIT')
          return result
        } catch (err) {
          raw.exec('ROLLBACK')
          throw err
        }
      }),
    exclusive: (body) => body(),
    close: async () => {
      await queue
      raw.close()
    },
  }
}
