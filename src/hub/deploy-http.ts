import { open } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { isErrno } from '../core/index.ts'
import {
  commitTree,
  environmentPaths,
  listModels,
  promoteModel,
  resolveCommit,
  rollbackDeployment,
  showModel,
  validateTree,
} from '../deploy/index.ts'
import type { Repo } from './accounts.ts'
import { authorize } from './auth.ts'
import {
  deployPaths,
  deployState,
  scheduleApply,
  type VersionRow,
  versionTarget,
} from './deploy-apply.ts'
import { HubHttpError, readBody, sendJson, stringField } from './http.ts'
import type { Hub } from './hub.ts'
import type { Caller } from './tokens.ts'

/** Bytes of a log the API returns: its end. */
const LOG_TAIL = 256 * 1024

function iso(ms: number | string | null): string | null {
  return ms === null ? null : new Date(Number(ms)).toISOString()
}

export function versionJson(repo: Repo, row: VersionRow) {
  return {
    deployment: row.deployment,
    branch: row.branch,
    version: Number(row.number),
    commit: row.commit_sha,
    runtime: row.runtime,
    status: row.status,
    error: row.error,
    inputsHash: row.inputs_hash,
    environment: row.deps_hash,
    /** The registry models the version uses (its deployment.yaml's `models`). */
    models: versionTarget(row).spec.models,
    created: iso(row.created),
    ready: iso(row.ready),
    url: `/v1/${repo.owner}/${repo.name}/${encodeURIComponent(row.branch)}/${row.deployment}/v${row.number}`,
  }
}

async function versionsOf(
  hub: Hub,
  repo: Repo,
  branch: string,
  deployment?: string,
): Promise<VersionRow[]> {
  return deployment === undefined
    ? hub.db.all<VersionRow>(
        'SELECT * FROM deploy_versions WHERE repo_id = ? AND branch = ? ORDER BY deployment, number',
        [repo.id, branch],
      )
    : hub.db.all<VersionRow>(
        'SELECT * FROM deploy_versions WHERE repo_id = ? AND branch = ? AND deployment = ? ORDER BY number',
        [repo.id, branch, deployment],
      )
}

function noDeployment(repo: Repo, branch: string, deployment: string): HubHttpError {
  return new HubHttpError(
    404,
    'NOT_FOUND',
    `no deployment ${deployment} on ${repo.owner}/${repo.name} ${branch}`,
    {
      hint: 'push a deployments/NAME/deployment.yaml to the branch; GET …/deployments lists them',
    },
  )
}

/** The version a call goes to: `vN`, or the latest ready one. */
async function versionToCall(
  hub: Hub,
  repo: Repo,
  branch: string,
  deployment: string,
  v: string | undefined,
) {
  if (v === undefined) {
    // The common call, answered by one row; the list below only for the error messages.
    const ready = await hub.db.get<VersionRow>(
      "SELECT * FROM deploy_versions WHERE repo_id = ? AND branch = ? AND deployment = ? AND status = 'ready' ORDER BY number DESC LIMIT 1",
      [repo.id, branch, deployment],
    )
    if (ready) return ready
  }
  const rows = await versionsOf(hub, repo, branch, deployment)
  if (rows.length === 0) throw noDeployment(repo, branch, deployment)
  if (v !== undefined) {
    const number = /^v(\d+)$/.exec(v)?.[1]
    const row = rows.find((r) => String(r.number) === number)
    if (!row)
      throw new HubHttpError(404, 'NOT_FOUND', `${deployment} on ${branch} has no version ${v}`)
    if (row.status === 'building')
      throw new HubHttpError(503, 'DEPLOYMENT', `${deployment} ${v} is still building`, {
        hint: 'try again shortly',
      })
    if (row.status === 'failed') {
      throw new HubHttpError(
        503,
        'DEPLOYMENT',
        `${deployment} ${v} failed to build: ${row.error ?? ''}`,
        {
          hint: `GET /api/v1/repos/${repo.owner}/${repo.name}/deployments/${deployment}/versions/${row.number}/logs`,
        },
      )
    }
    return row
  }
  const ready = rows.filter((r) => r.status === 'ready').at(-1)
  if (!ready) {
    const last = rows.at(-1) as VersionRow
    throw new HubHttpError(
      503,
      'DEPLOYMENT',
      `${deployment} on ${branch} has no ready version (v${last.number} is ${last.status})`,
      {
        hint:
          last.status === 'failed'
            ? `v${last.number} failed: ${last.error ?? ''}`
            : 'try again when the build is done',
      },
    )
  }
  return ready
}

/**
 * `POST /v1/OWNER/REPO/BRANCH/DEPLOYMENT[/vN]`: the request's JSON to the version's process, its
 * JSON back (header X-Mlvc-Version says which version answered). Read access to the repository
 * is enough. Errors: 400 (body not JSON), 413 (body too large), 404, 500 (the handler threw),
 * 502 (it returned no JSON or too much, or its process exited), 503 (busy, out of memory, not
 * ready), 504 (timeout) — always as the hub's JSON error.
 */
export async function serveDeployment(
  hub: Hub,
  req: IncomingMessage,
  res: ServerResponse,
  path: string[],
  caller: Caller | undefined,
): Promise<void> {
  const [owner = '', name = '', branch = '', deployment = '', v, ...extra] = path
  if (!deployment || extra.length > 0)
    throw new HubHttpError(404, 'NOT_FOUND', 'expected /v1/OWNER/REPO/BRANCH/DEPLOYMENT[/vN]')
  if (req.method !== 'POST')
    throw new HubHttpError(405, 'USAGE', 'call a deployment with POST and a JSON body')
  const { repo } = await authorize(hub, caller, owner, name, 'read')
  const row = await versionToCall(hub, repo, branch, deployment, v)
  const target = versionTarget(row)
  const body = await readBody(req, target.spec.limits.requestBytes)
  try {
    JSON.parse(body.toString('utf8'))
  } catch {
    throw new HubHttpError(400, 'USAGE', 'request body is not JSON', {
      hint: 'send a JSON document',
    })
  }
  const paths = deployPaths(hub)
  const outcome = await deployState(hub).pool.call(
    {
      key: row.id,
      spec: target.spec,
      dir: paths.work(repo.id, row.inputs_hash),
      envDir: environmentPaths(paths.envs, row.deps_hash).dir,
      logFile: paths.log(row.id),
      ...(target.onnxFile ? { onnxFile: target.onnxFile } : {}),
    },
    body.toString('utf8'),
  )
  if (outcome.status !== 200 || !('json' in outcome)) {
    const failure = outcome as { status: number; message: string; hint?: string }
    throw new HubHttpError(
      failure.status,
      'DEPLOYMENT',
      `${deployment} v${row.number}: ${failure.message}`,
      {
        ...(failure.hint ? { hint: failure.hint } : {}),
      },
    )
  }
  const text = `${outcome.json}\n`
  res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-mlvc-version': String(row.number),
  })
  res.end(text)
}

async function tail(path: string): Promise<string> {
  let file: Awaited<ReturnType<typeof open>>
  try {
    file = await open(path, 'r')
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return ''
    throw err
  }
  try {
    const { size } = await file.stat()
    const start = Math.max(0, size - LOG_TAIL)
    const buffer = Buffer.alloc(size - start)
    await file.read(buffer, 0, buffer.length, start)
    return buffer.toString('utf8')
  } finally {
    await file.close()
  }
}

function deploymentsJson(repo: Repo, rows: VersionRow[]) {
  const names = [...new Set(rows.map((r) => r.deployment))]
  return names.map((name) => {
    const mine = rows.filter((r) => r.deployment === name)
    const latest = mine.at(-1) as VersionRow
    const ready = mine.filter((r) => r.status === 'ready').at(-1)
    return {
      name,
      runtime: latest.runtime,
      latest: versionJson(repo, latest),
      serving: ready ? Number(ready.number) : null,
      url: `/v1/${repo.owner}/${repo.name}/${encodeURIComponent(latest.branch)}/${name}`,
    }
  })
}

/** The routes of the deployment API, after /api/v1/repos/OWNER/REPO/ (docs/hub-api.md). */
const TOPICS = new Set(['deployments', 'registry', 'validate'])

export function isDeployApi(path: readonly string[]): boolean {
  return path[0] === 'repos' && TOPICS.has(path[3] ?? '')
}

/**
 * The deployment and registry API: `GET …/deployments`, `…/deployments/D`, `…/deployments/D/versions`,
 * `…/versions/N`, `…/versions/N/logs`; `GET …/registry`, `…/registry/MODEL`, `POST
 * …/registry/MODEL/promote`; `POST …/deployments/D/rollback`; `GET …/validate`. A branch is chosen
 * with `?branch=` (default main).
 */
export async function handleDeployApi(
  hub: Hub,
  req: IncomingMessage,
  res: ServerResponse,
  path: string[],
  caller: Caller | undefined,
  body: Record<string, unknown>,
): Promise<void> {
  const method = req.method ?? 'GET'
  const [, owner = '', name = '', topic = '', ...rest] = path
  const branch = new URL(req.url ?? '/', 'http://hub').searchParams.get('branch') ?? 'main'
  const write = method === 'POST'
  const { repo } = await authorize(hub, caller, owner, name, write ? 'write' : 'read')
  const gitDir = hub.gitDir(repo.id)
  const branchTree = async () =>
    commitTree(
      gitDir,
      await resolveCommit(gitDir, `refs/heads/${branch}`).catch(() => {
        throw new HubHttpError(
          404,
          'NOT_FOUND',
          `${repo.owner}/${repo.name} has no branch ${branch}`,
        )
      }),
      branch,
    )
  const key =
    `${method} ${topic}/${rest.map((_, i) => (i % 2 === 0 ? ':' : rest[i])).join('/')}`.replace(
      /\/$/,
      '',
    )
  switch (key) {
    case 'GET deployments':
      return sendJson(res, 200, {
        branch,
        deployments: deploymentsJson(repo, await versionsOf(hub, repo, branch)),
      })
    case 'GET deployments/:': {
      const rows = await versionsOf(hub, repo, branch, rest[0])
      if (rows.length === 0) throw noDeployment(repo, branch, rest[0] ?? '')
      return sendJson(res, 200, {
        ...deploymentsJson(repo, rows)[0],
        versions: rows.map((r) => versionJson(repo, r)),
      })
    }
    case 'GET deployments/:/versions': {
      const rows = await versionsOf(hub, repo, branch, rest[0])
      if (rows.length === 0) throw noDeployment(repo, branch, rest[0] ?? '')
      return sendJson(res, 200, {
        branch,
        deployment: rest[0],
        versions: rows.map((r) => versionJson(repo, r)),
      })
    }
    case 'GET deployments/:/versions/:':
    case 'GET deployments/:/versions/:/logs': {
      const rows = await versionsOf(hub, repo, branch, rest[0])
      const row = rows.find((r) => String(r.number) === rest[2])
      if (!row)
        throw new HubHttpError(
          404,
          'NOT_FOUND',
          `${rest[0]} on ${branch} has no version ${rest[2]}`,
        )
      if (rest[3] !== 'logs') return sendJson(res, 200, versionJson(repo, row))
      const paths = deployPaths(hub)
      return sendJson(res, 200, {
        ...versionJson(repo, row),
        build: await tail(environmentPaths(paths.envs, row.deps_hash).log),
        runtime: await tail(paths.log(row.id)),
      })
    }
    case 'GET registry':
      return sendJson(res, 200, { branch, models: await listModels(await branchTree()) })
    case 'GET registry/:':
      return sendJson(res, 200, { branch, ...(await showModel(await branchTree(), rest[0] ?? '')) })
    case 'POST registry/:/promote': {
      const from = stringField(body, 'from', true)
      const to = stringField(body, 'to', true)
      const caller_ = caller as Caller
      const result = await promoteModel({
        cwd: gitDir,
        name: rest[0] ?? '',
        from: `refs/heads/${from}`,
        to,
        author: { name: caller_.user.name, email: `${caller_.user.name}@mlvc-hub` },
      })
      await scheduleApply(hub, repo)
      return sendJson(res, 200, { ...result, from })
    }
    case 'POST deployments/:/rollback': {
      // A commit on the branch restoring the deployment (and the models it used) as it was in
      // that version; applied like a push, its inputs equal the version's: ready at once.
      const number = body.version
      const rows = await versionsOf(hub, repo, branch, rest[0])
      const row = rows.find((r) => r.number === number)
      if (!row)
        throw new HubHttpError(
          404,
          'NOT_FOUND',
          `${rest[0]} on ${branch} has no version ${JSON.stringify(number)}`,
          { hint: 'field "version": a version number from …/versions' },
        )
      const caller_ = caller as Caller
      const result = await rollbackDeployment({
        cwd: gitDir,
        branch,
        name: row.deployment,
        commit: row.commit_sha,
        version: row.number,
        models: versionTarget(row).spec.models,
        author: { name: caller_.user.name, email: `${caller_.user.name}@mlvc-hub` },
      })
      await scheduleApply(hub, repo)
      return sendJson(res, 200, {
        ...result,
        branch,
        deployment: row.deployment,
        version: row.number,
      })
    }
    case 'GET validate': {
      const report = await validateTree(await branchTree())
      return sendJson(res, 200, {
        branch,
        valid: !report.problems.some((p) => p.severity === 'error'),
        ...report,
      })
    }
    default:
      throw new HubHttpError(404, 'NOT_FOUND', `no API route ${method} /api/v1/${path.join('/')}`)
  }
}
