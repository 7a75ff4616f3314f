import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import {
  type ConfigTree,
  configBoolean,
  configString,
  configValue,
  isErrno,
  MlvcError,
  parseConfig,
} from '../core/index.ts'

/** Bounds on what one request may hold or how long it may stall; every one has a default. */
export interface HubLimits {
  /** Bytes of request headers. @default 16384 */
  headerBytes: number
  /** Bytes of a JSON request body. @default 1 MiB */
  jsonBytes: number
  /** Bytes of one object upload (a pack is at most about 64 MiB; an encrypted one a little more). @default 1 GiB */
  objectBytes: number
  /** Bytes of a git request body (a push's pack). @default 8 GiB */
  gitBytes: number
  /** Time to receive a request's headers. @default 30 s (a loaded machine delays honest clients too) */
  headersTimeoutMs: number
  /** Time a connection may send or receive nothing before it is closed. @default 60 s */
  idleTimeoutMs: number
}

export interface HubConfig {
  /** The hub's folder: hub.yaml, hub.db, repos/, objects/, tmp/. */
  data: string
  host: string
  port: number
  /** postgres://… for PostgreSQL; undefined: SQLite in DATA/hub.db. */
  database: string | undefined
  /** Where objects go: undefined for DATA/objects, else s3://BUCKET/PREFIX with the S3 settings. */
  objects:
    | {
        url: string
        endpoint?: string | undefined
        region?: string | undefined
        pathStyle?: boolean | undefined
      }
    | undefined
  /** Pull mirrors every this many ms (0: only on webhook calls and pushes). @default 300000 */
  mirrorIntervalMs: number
  limits: HubLimits
}

export const DEFAULT_LIMITS: HubLimits = {
  headerBytes: 16 * 1024,
  jsonBytes: 1024 * 1024,
  objectBytes: 1024 * 1024 * 1024,
  gitBytes: 8 * 1024 * 1024 * 1024,
  headersTimeoutMs: 30_000,
  idleTimeoutMs: 60_000,
}

export interface HubFlags {
  data?: string | undefined
  listen?: string | undefined
  database?: string | undefined
  objects?: string | undefined
}

/** host:port, [v6]:port or :port. */
export function parseListen(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value)
  const port = Number(match?.[3])
  if (!match || port > 65535) {
    throw new MlvcError('USAGE', `--listen ${JSON.stringify(value)}: expected HOST:PORT`, {
      hint: 'for example 127.0.0.1:8470, or :8470 for every interface',
    })
  }
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port }
}

function positive(tree: ConfigTree, key: string, fallback: number): number {
  const value = configValue(tree, key)
  if (value === undefined || value === null) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new MlvcError(
      'BAD_CONFIG',
      `hub config ${key} must be a whole number ≥ 0, got ${JSON.stringify(value)}`,
    )
  }
  return value
}

/**
 * The hub's settings: DATA/hub.yaml when it exists, flags over it. Every setting has an embedded
 * default, so `mlvc hub serve` needs no file at all:
 *   listen: 127.0.0.1:8470
 *   database: postgres://hub@db:5432/hub
 *   objects: { url: s3://bucket/hub, endpoint: https://s3.example.com, region: us-east-1, pathStyle: true }
 *   mirror: { intervalMs: 300000 }
 *   limits: { headerBytes, jsonBytes, objectBytes, gitBytes, headersTimeoutMs, idleTimeoutMs }
 */
export async function loadHubConfig(flags: HubFlags): Promise<HubConfig> {
  const data = resolve(flags.data ?? process.env.MLVC_HUB_DATA ?? 'mlvc-hub')
  const file = join(data, 'hub.yaml')
  let tree: ConfigTree = {}
  try {
    tree = parseConfig(await readFile(file, 'utf8'), file)
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err
  }
  const listen = parseListen(flags.listen ?? configString(tree, 'listen') ?? '127.0.0.1:8470')
  const objectsUrl = flags.objects ?? configString(tree, 'objects.url')
  const limits = { ...DEFAULT_LIMITS }
  for (const key of Object.keys(limits) as Array<keyof HubLimits>) {
    limits[key] = positive(tree, `limits.${key}`, limits[key])
  }
  return {
    data,
    ...listen,
    database: flags.database ?? configString(tree, 'database'),
    objects: objectsUrl
      ? {
          url: objectsUrl,
          endpoint: configString(tree, 'objects.endpoint'),
          region: configString(tree, 'objects.region'),
          pathStyle: configBoolean(tree, 'objects.pathStyle'),
        }
      : undefined,
    mirrorIntervalMs: positive(tree, 'mirror.intervalMs', 300_000),
    limits,
  }
}
