import { text } from 'node:stream/consumers'
import { MlvcError } from '../../core/index.ts'
import { git, runGit } from '../../git/index.ts'
import { hubCredentials } from '../../remote/index.ts'
import type { CommandResult, Io } from '../io.ts'

interface HubOptions {
  hub?: string
  branch?: string
}

interface Target {
  origin: URL
  owner: string
  name: string
  branch: string
  auth: string | undefined
}

/** The hub repository (--hub, else Git's origin) and the branch (--branch, else the checked-out one). */
async function target(io: Io, options: HubOptions): Promise<Target> {
  let url = options.hub
  if (!url) {
    const origin = await runGit(['config', '--get', 'remote.origin.url'], { cwd: io.cwd })
    url = origin.code === 0 ? origin.stdout.toString().trim() : ''
  }
  let parsed: URL | undefined
  try {
    parsed = url ? new URL(url) : undefined
  } catch {
    parsed = undefined
  }
  const parts = parsed?.pathname.split('/').filter(Boolean) ?? []
  if (!parsed || !/^https?:$/.test(parsed.protocol) || parts.length !== 2) {
    throw new MlvcError(
      'USAGE',
      `${url ? JSON.stringify(url) : 'no Git remote origin'}: not a hub repository URL`,
      {
        hint: 'give --hub http(s)://HOST/OWNER/REPO, or run this in a clone of a hub repository',
      },
    )
  }
  const origin = new URL(parsed.origin)
  const branch =
    options.branch ??
    (
      await git(['symbolic-ref', '--short', '-q', 'HEAD'], { cwd: io.cwd, okCodes: [0, 1] }).catch(
        () => '',
      )
    ).trim()
  if (!branch)
    throw new MlvcError('USAGE', 'no branch checked out', { hint: 'give --branch BRANCH' })
  const credentials = await hubCredentials(origin)
  const auth = credentials
    ? `Basic ${Buffer.from(`${credentials.user}:${credentials.token}`).toString('base64')}`
    : undefined
  const [owner = '', rawName = ''] = parts
  return { origin, owner, name: rawName.replace(/\.git$/, ''), branch, auth }
}

async function request(
  io: Io,
  t: Target,
  path: string,
  init: { method?: string; body?: string } = {},
) {
  const url = new URL(path, t.origin)
  let response: Response
  try {
    response = await fetch(url, {
      method: init.method ?? 'GET',
      headers: {
        ...(t.auth ? { authorization: t.auth } : {}),
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(init.body === undefined ? {} : { body: init.body }),
      signal: io.signal,
    })
  } catch (err) {
    throw new MlvcError('REMOTE', `${t.origin.origin}: ${(err as Error).message}`, {
      cause: err,
      hint: 'check that the hub is running',
    })
  }
  const body = await response.text()
  if (!response.ok) {
    let error: { message?: string; hint?: string; code?: string } = {}
    try {
      error = (JSON.parse(body) as { error?: typeof error }).error ?? {}
    } catch {
      error = { message: body.slice(0, 200) }
    }
    throw new MlvcError(
      response.status >= 500 ? 'DEPLOYMENT' : response.status === 404 ? 'NOT_FOUND' : 'REMOTE',
      `${response.status}: ${error.message ?? 'no message'}`,
      {
        ...(error.hint ? { hint: error.hint } : {}),
      },
    )
  }
  return { body, version: response.headers.get('x-mlvc-version') }
}

const api = (t: Target, rest: string) =>
  `/api/v1/repos/${encodeURIComponent(t.owner)}/${encodeURIComponent(t.name)}/${rest}${rest.includes('?') ? '&' : '?'}branch=${encodeURIComponent(t.branch)}`

interface VersionJson {
  deployment: string
  version: number
  commit: string
  status: string
  error: string | null
  runtime: string
  created: string
  url: string
}

/** `mlvc deployments list`: the deployments of a branch, their latest and serving versions. */
export async function deploymentsList(
  io: Io,
  _operands: [],
  options: HubOptions,
): Promise<CommandResult> {
  const t = await target(io, options)
  const data = JSON.parse((await request(io, t, api(t, 'deployments'))).body) as {
    deployments: Array<{
      name: string
      runtime: string
      latest: VersionJson
      serving: number | null
      url: string
    }>
  }
  const lines = data.deployments.map(
    (d) =>
      `${d.name}  ${d.runtime}  v${d.latest.version} ${d.latest.status}  serving ${d.serving === null ? 'none' : `v${d.serving}`}  POST ${t.origin.origin}${d.url}`,
  )
  return { data, text: lines.length > 0 ? lines.join('\n') : `no deployments on ${t.branch}` }
}

function versionLine(v: VersionJson): string {
  return `v${v.version}  ${v.status}  ${v.commit.slice(0, 12)}  ${v.created}${v.error ? `  ${v.error}` : ''}`
}

/** `mlvc deployments versions NAME`. */
export async function deploymentsVersions(
  io: Io,
  [name]: [string],
  options: HubOptions,
): Promise<CommandResult> {
  const t = await target(io, options)
  const data = JSON.parse(
    (await request(io, t, api(t, `deployments/${encodeURIComponent(name)}/versions`))).body,
  ) as {
    versions: VersionJson[]
  }
  return { data, text: data.versions.map(versionLine).join('\n') }
}

/** `mlvc deployments logs NAME [--number N]`: the build log and the runtime log. */
export async function deploymentsLogs(
  io: Io,
  [name]: [string],
  options: HubOptions & { number?: string },
): Promise<CommandResult> {
  const t = await target(io, options)
  let number = options.number?.replace(/^v/, '')
  if (!number) {
    const all = JSON.parse(
      (await request(io, t, api(t, `deployments/${encodeURIComponent(name)}/versions`))).body,
    ) as {
      versions: VersionJson[]
    }
    number = String(all.versions.at(-1)?.version ?? '')
  }
  const data = JSON.parse(
    (
      await request(
        io,
        t,
        api(t, `deployments/${encodeURIComponent(name)}/versions/${number}/logs`),
      )
    ).body,
  ) as VersionJson & {
    build: string
    runtime: string
  }
  return {
    data,
    text: [
      `${name} ${versionLine(data)}`,
      '--- build',
      data.build.trimEnd(),
      '--- runtime',
      data.runtime.trimEnd(),
    ].join('\n'),
  }
}

/** `mlvc deployments call NAME [JSON]`: POSTs the JSON (or standard input) and prints the answer. */
export async function deploymentsCall(
  io: Io,
  [name, json]: [string, string | undefined],
  options: HubOptions & { number?: string },
): Promise<CommandResult> {
  const t = await target(io, options)
  const body = json ?? (await text(process.stdin))
  const version = options.number ? `/v${options.number.replace(/^v/, '')}` : ''
  const path = `/v1/${encodeURIComponent(t.owner)}/${encodeURIComponent(t.name)}/${encodeURIComponent(t.branch)}/${encodeURIComponent(name)}${version}`
  const answer = await request(io, t, path, { method: 'POST', body })
  return { data: JSON.parse(answer.body), text: answer.body.trimEnd() }
}
