import { join } from 'node:path'
import { ensureDir, MlvcError, updateConfigFile } from '../../core/index.ts'
import {
  chooseRemote,
  listRemotes,
  loadKey,
  newKey,
  openRemote,
  probeRemote,
  remoteKind,
  saveKey,
} from '../../remote/index.ts'
import { type RepoContext, repoContext } from '../context.ts'
import type { CommandResult, Io } from '../io.ts'
import { quote } from '../text.ts'

function configRoot(ctx: RepoContext): string {
  if (!ctx.root) {
    throw new MlvcError(
      'NOT_A_REPO',
      `${ctx.cwd} is not inside a Git repository or an mlvc folder`,
      {
        hint: 'run mlvc init first',
      },
    )
  }
  return ctx.root
}

async function configFile(ctx: RepoContext, local: boolean): Promise<string> {
  const dir = join(configRoot(ctx), '.mlvc')
  await ensureDir(dir)
  return join(dir, local ? 'config.local.yaml' : 'config.yaml')
}

export interface RemoteAddOptions {
  local?: boolean | undefined
  default?: boolean | undefined
  endpoint?: string | undefined
  region?: string | undefined
  /** An AWS profile: personal, so written to config.local.yaml. */
  profile?: string | undefined
  pathStyle?: boolean | undefined
  /** Create a new key and encrypt everything sent to this remote. */
  encrypt?: boolean | undefined
  /** Encrypt with this imported key (a teammate's) instead of a new one (implies encrypt). */
  key?: string | undefined
}

export async function remoteAdd(
  io: Io,
  [name, url]: [string, string],
  options: RemoteAddOptions,
): Promise<CommandResult> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new MlvcError('USAGE', `"${name}" is not a valid remote name (letters, digits, . _ -)`)
  }
  const ctx = await repoContext(io.cwd)
  const kind = remoteKind(url)
  if (
    kind !== 's3' &&
    (options.endpoint || options.region || options.profile || options.pathStyle !== undefined)
  ) {
    throw new MlvcError(
      'USAGE',
      '--endpoint, --region, --profile and --path-style are for s3:// remotes',
    )
  }
  let keyId = options.key
  if (keyId) await loadKey(keyId, name)
  openRemote({ name, url }, configRoot(ctx))
  if (listRemotes(ctx.config).some((r) => r.name === name)) {
    throw new MlvcError('USAGE', `remote ${name} exists already`, {
      hint: `mlvc remote remove ${name} first`,
    })
  }
  let keyPath: string | undefined
  if (!keyId && (options.encrypt === true || options.key !== undefined)) {
    const key = newKey()
    keyPath = await saveKey(key)
    keyId = key.id
  }
  const makeDefault = options.default === true || listRemotes(ctx.config).length === 0
  const shared: Record<string, string | boolean | undefined> = {
    url,
    endpoint: options.endpoint,
    region: options.region,
    pathStyle: options.pathStyle,
    encryption: keyId,
  }
  await updateConfigFile(await configFile(ctx, options.local === true), (doc) => {
    for (const [field, value] of Object.entries(shared)) {
      if (value !== undefined) doc.setIn(['remotes', name, field], value)
    }
    if (makeDefault) doc.setIn(['remote', 'default'], name)
    return true
  })
  if (options.profile) {
    await updateConfigFile(await configFile(ctx, true), (doc) => {
      doc.setIn(['remotes', name, 'profile'], options.profile)
      return true
    })
  }
  const lines = [`added remote ${name} → ${url}${makeDefault ? ' (default)' : ''}`]
  if (keyPath) {
    lines.push(
      `encrypted with the new key ${keyId}, saved in ${keyPath} (not in Git).`,
      `  Teammates need it: mlvc key export ${keyId} > ${keyId}.key, sent safely, then mlvc key import ${keyId}.key.`,
      '  Lose every copy of it and the remote cannot be read.',
    )
  } else if (keyId) {
    lines.push(`encrypted with key ${keyId}`)
  }
  return {
    data: {
      name,
      url,
      kind,
      default: makeDefault,
      encryption: keyId ?? null,
      keyFile: keyPath ?? null,
    },
    text: lines.join('\n'),
  }
}

export async function remoteRemove(io: Io, [name]: [string]): Promise<CommandResult> {
  const ctx = await repoContext(io.cwd)
  let found = false
  for (const local of [false, true]) {
    await updateConfigFile(await configFile(ctx, local), (doc) => {
      const here = doc.hasIn(['remotes', name])
      const isDefault = doc.getIn(['remote', 'default']) === name
      if (here) doc.deleteIn(['remotes', name])
      if (isDefault) doc.deleteIn(['remote', 'default'])
      found ||= here
      return here || isDefault
    })
  }
  if (!found) throw new MlvcError('USAGE', `no remote named ${name}`)
  return { data: { removed: name }, text: `removed remote ${name}` }
}

export async function remoteDefault(io: Io, [name]: [string]): Promise<CommandResult> {
  const ctx = await repoContext(io.cwd)
  chooseRemote(ctx.config, name)
  await updateConfigFile(await configFile(ctx, false), (doc) => {
    doc.setIn(['remote', 'default'], name)
    return true
  })
  return { data: { default: name }, text: `default remote: ${name}` }
}

export async function remoteList(
  io: Io,
  _operands: [],
  options: { check?: boolean | undefined },
): Promise<CommandResult> {
  const ctx = await repoContext(io.cwd)
  const remotes = listRemotes(ctx.config)
  let fallback: string | undefined
  try {
    fallback = chooseRemote(ctx.config).name
  } catch {
    fallback = undefined
  }
  const rows = await Promise.all(
    remotes.map(async (spec) => {
      const base = {
        name: spec.name,
        kind: remoteKind(spec.url),
        url: spec.url,
        encryption: spec.encryption ?? null,
        default: spec.name === fallback,
      }
      if (options.check === false) return base
      const status = await probeRemote(spec, openRemote(spec, configRoot(ctx)))
      return { ...base, reachable: status.reachable, problem: status.problem ?? null }
    }),
  )
  const text = rows.map((r) => {
    const state =
      'reachable' in r ? (r.reachable ? '  reachable' : `  UNREACHABLE: ${r.problem}`) : ''
    const crypt = r.encryption ? `  encrypted (${r.encryption})` : ''
    return `${r.default ? '*' : ' '} ${r.name}\t${r.kind}\t${quote(r.url)}${crypt}${state}`
  })
  return { data: rows, text: text.join('\n') }
}
