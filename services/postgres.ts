/**
 * A throwaway PostgreSQL server for tests and benchmarks (Debian's postgresql 15): `initdb` and
 * `pg_ctl` in a temporary folder, listening on 127.0.0.1 only (no Unix socket in /run), trust
 * authentication for the one database user `hub` (a superuser), database `postgres`. PostgreSQL refuses to run as root, so when the
 * tests run as root (CI does) the server runs as the `postgres` user the Debian package creates.
 * Starts in about a second; `stop()` stops it and removes the folder.
 */
import { execFile } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePort, missingCommands } from './util.ts'

const run = promisify(execFile)

export const POSTGRES_COMMANDS = ['initdb', 'pg_ctl']
export const POSTGRES_PACKAGES = ['postgresql']

export interface PostgresServer {
  /** postgres://hub@127.0.0.1:PORT/postgres (the database initdb creates) */
  url: string
  dir: string
  stop(): Promise<void>
}

/**
 * Where Debian keeps the server programs (/usr/lib/postgresql/VERSION/bin: not on the PATH), the
 * newest version first; undefined when they are on the PATH.
 */
function serverBin(): string | undefined {
  const base = '/usr/lib/postgresql'
  if (!existsSync(base)) return undefined
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a))
  return versions[0] === undefined ? undefined : join(base, versions[0], 'bin')
}

/** Runs a PostgreSQL program, as the postgres user when we are root. */
async function asOwner(name: string, args: string[]): Promise<string> {
  const bin = serverBin()
  const command = bin ? join(bin, name) : name
  const root = process.getuid?.() === 0
  const [file, argv] = root
    ? ['runuser', ['-u', 'postgres', '--', command, ...args]]
    : [command, args]
  const { stdout } = await run(file, argv, {
    env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' },
  })
  return stdout
}

export async function startPostgres(): Promise<PostgresServer> {
  const missing = serverBin() ? [] : await missingCommands(POSTGRES_COMMANDS)
  if (missing.length > 0) {
    throw new Error(
      `PostgreSQL is not installed (${missing.join(', ')} missing): run \`apt-get install -y ${POSTGRES_PACKAGES.join(' ')}\` (scripts/setup.mjs does when run as root)`,
    )
  }
  const dir = mkdtempSync(join(tmpdir(), 'mlvc-pg-'))
  const data = join(dir, 'data')
  if (process.getuid?.() === 0) {
    const { stdout } = await run('id', ['-u', 'postgres'])
    const { stdout: group } = await run('id', ['-g', 'postgres'])
    chownSync(dir, Number(stdout.trim()), Number(group.trim()))
  }
  const port = await freePort()
  await asOwner('initdb', ['-D', data, '-U', 'hub', '--auth=trust', '--no-sync', '-E', 'UTF8'])
  const options = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories='' -c fsync=off -c max_connections=50`
  await asOwner('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start'])
  return {
    url: `postgres://hub@127.0.0.1:${port}/postgres`,
    dir,
    async stop() {
      await asOwner('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => undefined)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
