import { isAbsolute, resolve } from 'node:path'
import {
  type ConfigTree,
  configBoolean,
  configString,
  configValue,
  MlvcError,
} from '../core/index.ts'
import { encryptedRemote } from './encrypted.ts'
import { folderRemote } from './folder.ts'
import { hubRemote } from './hub.ts'
import { loadKey } from './keyring.ts'
import type { Remote } from './remote.ts'
import { parseS3Url, s3Remote } from './s3.ts'

/**
 * Remotes live in config (`.mlvc/config.yaml` is committed, so clones know them):
 *   remotes:
 *     origin:
 *       url: /mnt/shared/mlvc        # a folder, or file:///…
 *     models:
 *       url: s3://bucket/prefix
 *       endpoint: https://s3.example.com   # S3-compatible servers; omit for AWS
 *       region: eu-west-1
 *       pathStyle: true
 *   remote:
 *     default: origin
 * Credentials never go into config: the AWS SDK finds them (environment, ~/.aws, SSO, instance
 * roles); `profile` (which of ~/.aws's profiles) belongs in the ignored config.local.yaml.
 */
export interface RemoteSpec {
  name: string
  url: string
  endpoint?: string | undefined
  region?: string | undefined
  profile?: string | undefined
  pathStyle?: boolean | undefined
  /** The id of the key that encrypts this remote (`k-…`); absent for plain remotes. */
  encryption?: string | undefined
  /** Where that key is, when not in the user's key folder (config.local.yaml). */
  keyFile?: string | undefined
  /** Requests a transfer keeps in flight (`transfer.concurrency`, for every remote). */
  concurrency?: number | undefined
}

/**
 * `transfer.concurrency`: requests in flight per transfer (range reads of a fetch; parts of the two
 * packs a push uploads at once), an integer from 1 to 64; undefined when not set: the engine's
 * default, 8, chosen by measurement (ranges.ts; a push of 1 GiB took 26.4 s with 8 and with 16,
 * which only used more memory).
 */
export function transferConcurrency(tree: ConfigTree): number | undefined {
  const value = configValue(tree, 'transfer.concurrency')
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 64) {
    throw new MlvcError(
      'BAD_CONFIG',
      `config key transfer.concurrency must be a whole number from 1 to 64, got ${JSON.stringify(value)}`,
      { hint: 'requests in flight per transfer; 8 when not set' },
    )
  }
  return value
}

export function listRemotes(tree: ConfigTree): RemoteSpec[] {
  const remotes = configValue(tree, 'remotes')
  if (remotes === undefined || remotes === null) return []
  if (typeof remotes !== 'object' || Array.isArray(remotes)) {
    throw new MlvcError('BAD_CONFIG', 'config key remotes must be a mapping of name to { url }')
  }
  const concurrency = transferConcurrency(tree)
  return Object.keys(remotes as object)
    .sort()
    .map((name) => {
      const key = `remotes.${name}`
      const url = configString(tree, `${key}.url`)
      if (!url) throw new MlvcError('BAD_CONFIG', `remote ${name} has no url in config`)
      return {
        name,
        url,
        endpoint: configString(tree, `${key}.endpoint`),
        region: configString(tree, `${key}.region`),
        profile: configString(tree, `${key}.profile`),
        pathStyle: configBoolean(tree, `${key}.pathStyle`),
        encryption: configString(tree, `${key}.encryption`),
        keyFile: configString(tree, `${key}.keyFile`),
        concurrency,
      }
    })
}

/** The named remote, or the default one: remote.default, else the only one configured. */
export function chooseRemote(tree: ConfigTree, name?: string): RemoteSpec {
  const remotes = listRemotes(tree)
  const wanted =
    name ??
    configString(tree, 'remote.default') ??
    (remotes.length === 1 ? remotes[0]?.name : undefined)
  if (!wanted) {
    throw new MlvcError(
      'REMOTE',
      remotes.length === 0 ? 'no mlvc remote is configured' : 'no default mlvc remote is set',
      {
        hint:
          remotes.length === 0
            ? 'add one: mlvc remote add origin /path/to/folder'
            : 'mlvc remote default NAME',
      },
    )
  }
  const spec = remotes.find((r) => r.name === wanted)
  if (!spec)
    throw new MlvcError('REMOTE', `no mlvc remote named ${wanted}`, {
      hint: 'mlvc remote list shows them',
    })
  return spec
}

/**
 * Opens a remote; relative folder paths are relative to `baseDir` (the repository root). An
 * encrypted remote's key is loaded on first use (a missing key is then a MISSING_KEY error).
 */
export function openRemote(spec: RemoteSpec, baseDir: string): Remote {
  const remote = openPlain(spec, baseDir)
  const keyId = spec.encryption
  if (!keyId) return remote
  return encryptedRemote(remote, () => loadKey(keyId, spec.name, spec.keyFile))
}

function openPlain(spec: RemoteSpec, baseDir: string): Remote {
  const url = spec.url
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase()
  switch (scheme) {
    case undefined:
      return folderRemote(spec.name, isAbsolute(url) ? url : resolve(baseDir, url), {
        concurrency: spec.concurrency,
      })
    case 'file':
      return folderRemote(spec.name, url, { concurrency: spec.concurrency })
    case 's3':
      return s3Remote(
        spec.name,
        url,
        { ...parseS3Url(url, spec.name), ...spec },
        {
          concurrency: spec.concurrency,
        },
      )
    case 'http':
    case 'https':
      return hubRemote(spec.name, url, { concurrency: spec.concurrency })
    default:
      throw new MlvcError('REMOTE', `remote ${spec.name}: unsupported URL scheme "${scheme}://"`, {
        hint: 'use a folder (a path or file:// URL), s3://BUCKET/PREFIX or a hub repository http(s)://HOST/OWNER/REPO',
      })
  }
}
