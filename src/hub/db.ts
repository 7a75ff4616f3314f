import { MlvcError } from '../core/index.ts'

/** A value a query takes or returns: the portable subset of SQLite's and PostgreSQL's types. */
export type SqlValue = string | number | null

export type Row = Record<string, SqlValue>

/**
 * The hub's metadata database: the same SQL text runs on both drivers — the embedded SQLite
 * (better-sqlite3, the default: nothing to install or start) and PostgreSQL (`pg`, for several hub
 * processes). Queries use `?` placeholders (PostgreSQL's driver rewrites them to `$n`), TEXT ids
 * made by the hub (no SERIAL/AUTOINCREMENT), BIGINT milliseconds for times and INTEGER 0/1 for
 * flags.
 */
export interface Db {
  readonly kind: 'sqlite' | 'postgres'
  all<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>
  get<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>
  /** Runs a statement; resolves to the number of rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>
  /**
   * Runs `body` in one transaction (committed when it resolves, rolled back when it throws). Every
   * query of the transaction goes through the `tx` it is given.
   */
  transaction<T>(body: (tx: Db) => Promise<T>): Promise<T>
  /**
   * Runs `body` while holding the database-wide migration lock (PostgreSQL: an advisory lock, so
   * that two hub processes starting at once migrate one after the other).
   */
  exclusive<T>(body: () => Promise<T>): Promise<T>
  close(): Promise<void>
}

/** `?` placeholders to PostgreSQL's `$1, $2, …` (the hub's SQL has no `?` inside literals). */
export function numberPlaceholders(sql: string): string {
  let n = 0
  return sql.replace(/\?/g, () => `$${++n}`)
}

/** A unique-constraint violation from either driver (a name taken, a duplicate row). */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code
  return (
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    code === '23505'
  )
}

export function dbError(err: unknown, where: string): MlvcError {
  if (err instanceof MlvcError) return err
  const message = err instanceof Error ? err.message : String(err)
  return new MlvcError('IO', `hub database ${where}: ${message}`, {
    cause: err,
    hint: 'check that the database is reachable and not full; the hub retries nothing on its own',
  })
}
