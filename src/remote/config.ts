import { isAbsolute, resolve } from 'node:path'
import { type LoadedConfig, MlvcError, readSetting } from '../core/index.ts'
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
 * The configured remotes, sorted by name, each carrying `transfer.concurrency` (requests in flight
 * per transfer: range reads of a fetch, parts of the two packs a push uploads at once; undefined
 * when not set: the engine's default, 8, chosen by measurement in ranges.ts). A bad value is
 * BAD_CONFIG naming the key and the file that set it (core/settings.ts).
 */
export function listRemotes(config: LoadedConfig): RemoteSpec[] {
  const concurrency = readSetting(config, 'transfer.concurrency')
  return readSetting(config, 'remotes').map((remote) => ({ ...remote, concurrency }))
}

/** The named remote, or the default one: remote.default, else the only one configured. */
export function chooseRemote(config: LoadedConfig, name?: string): RemoteSpec {
  const remotes = listRemotes(config)
  const wanted =
    name ??
    readSetting(config, 'remote.default') ??
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
