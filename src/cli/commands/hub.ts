import { text } from 'node:stream/consumers'
import { MlvcError } from '../../core/index.ts'
import {
  addAccount,
  addRepo,
  createToken,
  findRepo,
  fsckHub,
  gcHub,
  grantRole,
  type Hub,
  jsonLog,
  linesPerTurn,
  listRepos,
  listTokens,
  loadHubConfig,
  type MirrorStatus,
  mirrorStatus,
  openHub,
  parseRole,
  preReceive,
  type Repo,
  repoJson,
  requireAccount,
  revokeToken,
  setMember,
  setMirror,
  setPassword,
  startHub,
  syncMirror,
  tokenJson,
} from '../../hub/index.ts'
import { parseDuration } from '../duration.ts'
import type { CommandResult, Io } from '../io.ts'

interface DataOptions {
  data?: string | undefined
}

async function withHub<T>(options: DataOptions, body: (hub: Hub) => Promise<T>): Promise<T> {
  const hub = await openHub(await loadHubConfig({ data: options.data }))
  try {
    return await body(hub)
  } finally {
    await hub.close()
  }
}

function splitRepo(value: string): { owner: string; name: string } {
  const [owner, name, ...rest] = value.split('/')
  if (!owner || !name || rest.length > 0) {
    throw new MlvcError('USAGE', `${JSON.stringify(value)}: expected OWNER/NAME`)
  }
  return { owner, name }
}

export async function hubServe(
  io: Io,
  _operands: [],
  options: DataOptions & { listen?: string; database?: string; objects?: string },
): Promise<CommandResult> {
  const config = await loadHubConfig(options)
  const log = jsonLog(linesPerTurn((text) => process.stdout.write(text)))
  const running = await startHub(config, {
    log,
    hookCommand: [process.execPath, process.argv[1] ?? 'mlvc'],
  })
  await new Promise<void>((done) => {
    const stop = () => done()
    io.signal.addEventListener('abort', stop, { once: true })
    process.once('SIGTERM', stop)
  })
  log.info('hub stopping')
  await running.close()
  return { data: { stopped: running.url }, text: '' }
}

export async function hubUserAdd(
  _io: Io,
  [name]: [string],
  options: DataOptions & { admin?: true },
): Promise<CommandResult> {
  const user = await withHub(options, (hub) =>
    addAccount(hub.db, { name, kind: 'user', admin: options.admin === true }),
  )
  return { data: user, text: `added user ${user.name}${user.admin ? ' (hub admin)' : ''}` }
}

export async function hubUserPassword(
  _io: Io,
  [name]: [string],
  options: DataOptions,
): Promise<CommandResult> {
  const password = (await text(process.stdin)).replace(/\r?\n$/, '')
  await withHub(options, async (hub) => {
    const user = await requireAccount(hub.db, name)
    if (user.kind !== 'user')
      throw new MlvcError('USAGE', `${name} is an organization: only users sign in`)
    await setPassword(hub, user.id, password)
  })
  return { data: { user: name, password: 'set' }, text: `password set for ${name}` }
}

export async function hubOrgAdd(
  _io: Io,
  [name]: [string],
  options: DataOptions & { owner: string },
): Promise<CommandResult> {
  const org = await withHub(options, async (hub) => {
    const owner = await requireAccount(hub.db, options.owner)
    const org = await addAccount(hub.db, { name, kind: 'org' })
    await setMember(hub.db, org, owner, 'admin')
    return org
  })
  return { data: org, text: `added organization ${org.name} (admin: ${options.owner})` }
}

export async function hubOrgMember(
  _io: Io,
  [orgName, userName, role]: [string, string, string],
  options: DataOptions,
): Promise<CommandResult> {
  const parsed = parseRole(role)
  await withHub(options, async (hub) => {
    await setMember(
      hub.db,
      await requireAccount(hub.db, orgName),
      await requireAccount(hub.db, userName),
      parsed,
    )
  })
  return {
    data: { org: orgName, user: userName, role: parsed },
    text: `${userName} is ${parsed} in ${orgName}`,
  }
}

export async function hubRepoCreate(
  _io: Io,
  [spec]: [string],
  options: DataOptions & { public?: true },
): Promise<CommandResult> {
  const { owner, name } = splitRepo(spec)
  const repo = await withHub(options, async (hub) =>
    addRepo(hub, {
      owner: await requireAccount(hub.db, owner),
      name,
      private: options.public !== true,
    }),
  )
  return {
    data: repoJson(repo),
    text: `created ${repo.owner}/${repo.name} (${repo.private ? 'private' : 'public'})`,
  }
}

export async function hubRepoGrant(
  _io: Io,
  [spec, userName, role]: [string, string, string],
  options: DataOptions,
): Promise<CommandResult> {
  const { owner, name } = splitRepo(spec)
  const parsed = role === 'none' ? undefined : parseRole(role)
  await withHub(options, async (hub) => {
    const repo = await findRepo(hub.db, owner, name)
    if (!repo) throw new MlvcError('NOT_FOUND', `no repository ${spec} on this hub`)
    await grantRole(hub.db, repo, await requireAccount(hub.db, userName), parsed)
  })
  return {
    data: { repo: spec, user: userName, role: parsed ?? null },
    text: `${userName}: ${parsed ?? 'no role'} on ${spec}`,
  }
}

export async function hubRepoList(
  _io: Io,
  _operands: [],
  options: DataOptions,
): Promise<CommandResult> {
  const repos = await withHub(options, (hub) => listRepos(hub.db))
  return {
    data: { repos: repos.map((r) => repoJson(r)) },
    text: repos.map((r) => `${r.owner}/${r.name}  ${r.private ? 'private' : 'public'}`).join('\n'),
  }
}

export async function hubTokenCreate(
  _io: Io,
  [userName]: [string],
  options: DataOptions & { scope: string; repo?: string; expires?: string; name: string },
): Promise<CommandResult> {
  const scope = parseRole(options.scope, '--scope')
  const ttlMs =
    options.expires === undefined ? undefined : parseDuration(options.expires, '--expires')
  const token = await withHub(options, async (hub) => {
    let repoId: string | undefined
    if (options.repo) {
      const { owner, name } = splitRepo(options.repo)
      const repo = await findRepo(hub.db, owner, name)
      if (!repo) throw new MlvcError('NOT_FOUND', `no repository ${options.repo} on this hub`)
      repoId = repo.id
    }
    return createToken(hub.db, {
      user: await requireAccount(hub.db, userName),
      name: options.name,
      scope,
      repoId,
      ttlMs,
    })
  })
  return { data: { ...tokenJson(token), secret: token.secret }, text: token.secret }
}

export async function hubTokenList(
  _io: Io,
  [userName]: [string],
  options: DataOptions,
): Promise<CommandResult> {
  const tokens = await withHub(options, async (hub) =>
    listTokens(hub.db, await requireAccount(hub.db, userName)),
  )
  const rows = tokens.map(tokenJson)
  return {
    data: { tokens: rows },
    text: rows
      .map(
        (t) =>
          `${t.id}  ${t.name}  ${t.scope}${t.expires ? `  expires ${t.expires}` : ''}${t.revoked ? '  REVOKED' : ''}`,
      )
      .join('\n'),
  }
}

export async function hubTokenRevoke(
  _io: Io,
  [userName, id]: [string, string],
  options: DataOptions,
): Promise<CommandResult> {
  await withHub(options, async (hub) =>
    revokeToken(hub.db, await requireAccount(hub.db, userName), id),
  )
  return { data: { revoked: id }, text: `revoked ${id}` }
}

async function repoNamed(hub: Hub, spec: string): Promise<Repo> {
  const { owner, name } = splitRepo(spec)
  const repo = await findRepo(hub.db, owner, name)
  if (!repo) throw new MlvcError('NOT_FOUND', `no repository ${spec} on this hub`)
  return repo
}

function mirrorText(spec: string, status: MirrorStatus | undefined): string {
  if (!status) return `${spec} has no mirror`
  const lines = [
    `${spec} ↔ ${status.url}`,
    `last sync: ${status.lastSync ?? 'never'}`,
    ...(status.lastError ? [`last error: ${status.lastError}`] : []),
    ...status.conflicts.map(
      (c) =>
        `DIVERGED ${c.ref}: hub ${c.hub.slice(0, 12)}, mirror ${c.mirror.slice(0, 12)} (under refs/mirror/heads/); merge and push to resolve`,
    ),
  ]
  return lines.join('\n')
}

export async function hubMirrorSet(
  _io: Io,
  [spec, url]: [string, string],
  options: DataOptions & { user?: string; passwordStdin?: true; interval?: string },
): Promise<CommandResult> {
  const secret = options.passwordStdin ? (await text(process.stdin)).trim() : undefined
  const intervalMs =
    options.interval === undefined ? undefined : parseDuration(options.interval, '--interval')
  const result = await withHub(options, async (hub) =>
    setMirror(hub, await repoNamed(hub, spec), { url, username: options.user, secret, intervalMs }),
  )
  return {
    data: { repo: spec, url, webhookSecret: result.webhookSecret },
    text: `${spec} mirrors ${url}\nwebhook: POST /${spec}/mirror/webhook with header X-Mlvc-Webhook-Secret: ${result.webhookSecret}`,
  }
}

export async function hubMirrorStatus(
  _io: Io,
  [spec]: [string],
  options: DataOptions,
): Promise<CommandResult> {
  const status = await withHub(options, async (hub) =>
    mirrorStatus(hub, await repoNamed(hub, spec)),
  )
  return {
    data: status ?? null,
    text: mirrorText(spec, status),
    exitCode: status && status.conflicts.length > 0 ? 1 : 0,
  }
}

export async function hubMirrorSync(
  _io: Io,
  [spec]: [string],
  options: DataOptions,
): Promise<CommandResult> {
  const status = await withHub(options, async (hub) => syncMirror(hub, await repoNamed(hub, spec)))
  return {
    data: status ?? null,
    text: mirrorText(spec, status),
    exitCode: status && status.conflicts.length > 0 ? 1 : 0,
  }
}

export async function hubFsck(
  _io: Io,
  _operands: [],
  options: DataOptions & { quick?: true },
): Promise<CommandResult> {
  const report = await withHub(options, (hub) => fsckHub(hub, { quick: options.quick === true }))
  const errors = report.issues.filter((i) => i.severity === 'error')
  return {
    data: report,
    text: [
      ...report.issues.map(
        (i) => `${i.severity === 'error' ? 'ERROR' : 'warning'} ${i.repo}: ${i.message}`,
      ),
      `${report.repos} repositories, ${report.packs} packs, ${report.stubs} stubs checked: ${errors.length === 0 ? 'clean' : `${errors.length} problem(s)`}`,
    ].join('\n'),
    exitCode: errors.length > 0 ? 1 : 0,
  }
}

export async function hubGc(
  _io: Io,
  _operands: [],
  options: DataOptions & { grace: string; dryRun?: true },
): Promise<CommandResult> {
  const graceMs = parseDuration(options.grace, '--grace')
  const report = await withHub(options, (hub) =>
    gcHub(hub, { graceMs, dryRun: options.dryRun === true }),
  )
  const verb = report.dryRun ? 'would remove' : 'removed'
  return {
    data: report,
    text: `${verb} ${report.tmpFiles} unfinished upload(s), ${report.unindexedPacks} pack(s) without index, ${report.quarantines} push quarantine(s); git gc in ${report.gitGc} repositories`,
  }
}

export async function hubHook(_io: Io, [name]: [string]): Promise<CommandResult> {
  if (name !== 'pre-receive') throw new MlvcError('USAGE', `unknown hub hook ${name}`)
  const result = await preReceive(await text(process.stdin))
  return {
    data: result,
    text: result.encrypted ? 'mlvc hub: encrypted objects: the push gate cannot check them' : '',
  }
}
