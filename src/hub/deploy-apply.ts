import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { MlvcError } from '../core/index.ts'
import {
  buildEnvironment,
  commitTree,
  createRunnerPool,
  type DeploymentPlan,
  type DeploymentSpec,
  dependencyFiles,
  type Environment,
  entriesUnder,
  environmentPaths,
  planDeployments,
  prepareWorkspace,
  type RunnerPool,
  workspaceReady,
} from '../deploy/index.ts'
import { git, readObjects } from '../git/index.ts'
import { fetchObjects } from '../remote/index.ts'
import { materialize, openStore, type Store } from '../store/index.ts'
import type { Repo } from './accounts.ts'
import type { Hub } from './hub.ts'
import { newId } from './ids.ts'

/** A version as stored. */
export interface VersionRow {
  id: string
  repo_id: string
  branch: string
  deployment: string
  number: number
  commit_sha: string
  inputs_hash: string
  deps_hash: string
  runtime: string
  /** JSON: { spec, onnxFile }. */
  target: string
  status: 'building' | 'ready' | 'failed'
  error: string | null
  created: number
  ready: number | null
  [key: string]: string | number | null
}

/** The hub's deployment machinery: one per hub process. */
interface DeployState {
  pool: RunnerPool
  /** Applies of a repository run one after the other (in push order). */
  chains: Map<string, Promise<void>>
  /** Builds and version folders in progress, shared by versions that need the same one. */
  builds: Map<string, Promise<Environment>>
  workspaces: Map<string, Promise<void>>
  store?: Promise<Store>
  /** Background work, awaited on close. */
  running: Set<Promise<unknown>>
}

const states = new WeakMap<Hub, DeployState>()

export function deployState(hub: Hub): DeployState {
  let state = states.get(hub)
  if (!state) {
    state = {
      pool: createRunnerPool(),
      chains: new Map(),
      builds: new Map(),
      workspaces: new Map(),
      running: new Set(),
    }
    states.set(hub, state)
  }
  return state
}

export function deployPaths(hub: Hub) {
  const root = join(hub.config.data, 'deploy')
  return {
    envs: join(root, 'envs'),
    work: (repoId: string, inputsHash: string) => join(root, 'work', repoId, inputsHash),
    log: (versionId: string) => join(root, 'logs', `${versionId}.log`),
    logs: join(root, 'logs'),
    store: join(root, 'store'),
  }
}

function track<T>(state: DeployState, work: Promise<T>): void {
  const done = work.then(
    () => undefined,
    () => undefined,
  )
  state.running.add(done)
  void done.finally(() => state.running.delete(done))
}

/** Stops every runner and waits for background builds (the hub is closing). */
export async function closeDeployments(hub: Hub): Promise<void> {
  const state = states.get(hub)
  if (!state) return
  await Promise.all([...state.chains.values()].map((c) => c.catch(() => undefined)))
  await state.pool.stopAll()
  await Promise.all(state.running)
}

async function fetchContent(hub: Hub, repo: Repo, id: string, path: string): Promise<void> {
  const state = deployState(hub)
  state.store ??= mkdir(deployPaths(hub).store, { recursive: true }).then(() =>
    openStore(deployPaths(hub).store, { create: true, fsync: false }),
  )
  const store = await state.store
  const report = await fetchObjects(store, hub.storage.remote(repo.id), [id])
  if (report.missing.length > 0) {
    throw new MlvcError(
      'MISSING_OBJECT',
      `the hub lacks ${report.missing.length} object(s) of ${id}`,
    )
  }
  await materialize(store, id, path)
}

/** The environment of a plan: built once per dependency hash, shared by concurrent versions. */
function sharedBuild(hub: Hub, gitDir: string, plan: DeploymentPlan): Promise<Environment> {
  const state = deployState(hub)
  const running = state.builds.get(plan.depsHash)
  if (running !== undefined) return running
  const build = (async () => {
    const deps = plan.files.filter(
      (f) =>
        f.target === f.path.split('/').slice(2).join('/') &&
        dependencyFiles(plan.spec.runtime).includes(f.target),
    )
    const blobs = await readObjects(
      gitDir,
      deps.map((f) => f.sha),
    )
    const now = Date.now()
    await hub.db.run('DELETE FROM deploy_builds WHERE deps_hash = ?', [plan.depsHash])
    await hub.db.run(
      'INSERT INTO deploy_builds (deps_hash, runtime, status, started) VALUES (?, ?, ?, ?)',
      [plan.depsHash, plan.spec.runtime, 'building', now],
    )
    try {
      await mkdir(deployPaths(hub).envs, { recursive: true })
      const env = await buildEnvironment({
        runtime: plan.spec.runtime,
        depsHash: plan.depsHash,
        depFiles: new Map(deps.map((f) => [f.target, blobs.get(f.sha) ?? Buffer.alloc(0)])),
        root: deployPaths(hub).envs,
      })
      await hub.db.run('UPDATE deploy_builds SET status = ?, finished = ? WHERE deps_hash = ?', [
        'ready',
        Date.now(),
        plan.depsHash,
      ])
      return env
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err)
      await hub.db.run(
        'UPDATE deploy_builds SET status = ?, error = ?, finished = ? WHERE deps_hash = ?',
        ['failed', message, Date.now(), plan.depsHash],
      )
      throw err
    }
  })().finally(() => state.builds.delete(plan.depsHash))
  state.builds.set(plan.depsHash, build)
  return build
}

/** Builds a version in the background: its environment, then its folder; records the outcome. */
async function buildVersion(
  hub: Hub,
  repo: Repo,
  version: VersionRow,
  plan: DeploymentPlan,
): Promise<void> {
  const state = deployState(hub)
  const gitDir = hub.gitDir(repo.id)
  try {
    const env = await sharedBuild(hub, gitDir, plan)
    const dir = deployPaths(hub).work(repo.id, plan.inputsHash)
    let preparing = state.workspaces.get(dir)
    if (!preparing) {
      preparing = prepareWorkspace({
        gitDir,
        dir,
        files: plan.files,
        runtime: plan.spec.runtime,
        envDir: env.dir,
        fetchContent: (id, path) => fetchContent(hub, repo, id, path),
      }).finally(() => state.workspaces.delete(dir))
      state.workspaces.set(dir, preparing)
    }
    await preparing
    await hub.db.run("UPDATE deploy_versions SET status = 'ready', ready = ? WHERE id = ?", [
      Date.now(),
      version.id,
    ])
    hub.log.info('deployment version ready', {
      repo: repo.id,
      branch: version.branch,
      deployment: version.deployment,
      version: version.number,
    })
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    await hub.db.run("UPDATE deploy_versions SET status = 'failed', error = ? WHERE id = ?", [
      message,
      version.id,
    ])
    hub.log.warn('deployment version failed', {
      repo: repo.id,
      deployment: version.deployment,
      version: version.number,
      error: message,
    })
  }
}

export function onnxFileOf(plan: DeploymentPlan): string | undefined {
  const model = plan.spec.models[0]
  return plan.files.find(
    (f) => f.target.startsWith(`models/${model}/`) && f.target.endsWith('.onnx'),
  )?.target
}

export function versionTarget(row: VersionRow): { spec: DeploymentSpec; onnxFile?: string } {
  return JSON.parse(row.target) as { spec: DeploymentSpec; onnxFile?: string }
}

/** A new version when the plan's inputs differ from the branch's latest version's. */
async function applyPlan(
  hub: Hub,
  repo: Repo,
  branch: string,
  commit: string,
  plan: DeploymentPlan,
): Promise<void> {
  const latest = await hub.db.get<VersionRow>(
    'SELECT * FROM deploy_versions WHERE repo_id = ? AND branch = ? AND deployment = ? ORDER BY number DESC LIMIT 1',
    [repo.id, branch, plan.name],
  )
  // Equal inputs make no new version, unless the latest failed (an interrupted or flaky build).
  if (latest?.inputs_hash === plan.inputsHash && latest.status !== 'failed') return
  const dir = deployPaths(hub).work(repo.id, plan.inputsHash)
  const env = environmentPaths(deployPaths(hub).envs, plan.depsHash)
  // Equal inputs were built before (a revert, a new branch): the version is ready at once.
  const reused = (await workspaceReady(dir)) && (await workspaceReady(env.dir).catch(() => false))
  const now = Date.now()
  const row: VersionRow = {
    id: newId('dv'),
    repo_id: repo.id,
    branch,
    deployment: plan.name,
    number: Number(latest?.number ?? 0) + 1,
    commit_sha: commit,
    inputs_hash: plan.inputsHash,
    deps_hash: plan.depsHash,
    runtime: plan.spec.runtime,
    target: JSON.stringify({ spec: plan.spec, onnxFile: onnxFileOf(plan) }),
    status: reused ? 'ready' : 'building',
    error: null,
    created: now,
    ready: reused ? now : null,
  }
  await hub.db.run(
    `INSERT INTO deploy_versions (id, repo_id, branch, deployment, number, commit_sha, inputs_hash, deps_hash, runtime, target, status, error, created, ready)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      row.id,
      row.repo_id,
      row.branch,
      row.deployment,
      row.number,
      row.commit_sha,
      row.inputs_hash,
      row.deps_hash,
      row.runtime,
      row.target,
      row.status,
      row.error,
      row.created,
      row.ready,
    ],
  )
  hub.log.info('deployment version', {
    repo: repo.id,
    branch,
    deployment: plan.name,
    version: row.number,
    status: row.status,
  })
  if (!reused) track(deployState(hub), buildVersion(hub, repo, row, plan))
}

async function applyBranch(hub: Hub, repo: Repo, branch: string, commit: string): Promise<void> {
  const source = commitTree(hub.gitDir(repo.id), commit, branch)
  const names = entriesUnder(await source.files(), 'deployments')
  for (const plan of await planDeployments(source, names))
    await applyPlan(hub, repo, branch, commit, plan)
}

/** The branches of a repository and their heads. */
export async function branchHeads(gitDir: string): Promise<Map<string, string>> {
  const out = await git(['for-each-ref', '--format=%(objectname) %(refname)', 'refs/heads/'], {
    cwd: gitDir,
  })
  const heads = new Map<string, string>()
  for (const line of out.split('\n')) {
    const [sha, ref] = line.split(' ')
    if (sha && ref) heads.set(ref.slice('refs/heads/'.length), sha)
  }
  return heads
}

/**
 * Applies what moved since the last apply: every branch whose head changed gets new versions of
 * the deployments whose inputs changed (their builds run in the background). Reads the refs, not
 * the push's input, so a push that raced another, or a hub that stopped mid-apply, is caught up
 * by the next apply.
 */
export async function applyRepo(hub: Hub, repo: Repo): Promise<void> {
  const heads = await branchHeads(hub.gitDir(repo.id))
  const applied = new Map(
    (
      await hub.db.all<{ branch: string; commit_sha: string }>(
        'SELECT branch, commit_sha FROM deploy_heads WHERE repo_id = ?',
        [repo.id],
      )
    ).map((r) => [r.branch, r.commit_sha]),
  )
  for (const [branch, commit] of heads) {
    if (applied.get(branch) === commit) continue
    await applyBranch(hub, repo, branch, commit)
    const changed = await hub.db.run(
      'UPDATE deploy_heads SET commit_sha = ?, applied = ? WHERE repo_id = ? AND branch = ?',
      [commit, Date.now(), repo.id, branch],
    )
    if (changed === 0) {
      await hub.db.run(
        'INSERT INTO deploy_heads (repo_id, branch, commit_sha, applied) VALUES (?, ?, ?, ?)',
        [repo.id, branch, commit, Date.now()],
      )
    }
  }
}

/** Queues an apply of the repository after the ones before it; errors are logged, never thrown. */
export function scheduleApply(hub: Hub, repo: Repo): Promise<void> {
  const state = deployState(hub)
  const before = state.chains.get(repo.id) ?? Promise.resolve()
  const next = before
    .then(() => applyRepo(hub, repo))
    .catch((err: unknown) =>
      hub.log.error('deployment apply failed', {
        repo: repo.id,
        error: err instanceof Error ? err.message : String(err),
      }),
    )
  state.chains.set(repo.id, next)
  void next.finally(() => {
    if (state.chains.get(repo.id) === next) state.chains.delete(repo.id)
  })
  return next
}

/**
 * At start: builds that a stopped hub left `building` are marked failed, and their repositories
 * applied again, which makes new versions of them (the latest failed) and builds those. One hub
 * process per data folder: several processes sharing a database would take each other's builds
 * for interrupted ones.
 */
export async function resumeDeployments(
  hub: Hub,
  repos: (id: string) => Promise<Repo | undefined>,
): Promise<void> {
  const stale = await hub.db.all<{ repo_id: string }>(
    "SELECT DISTINCT repo_id FROM deploy_versions WHERE status = 'building'",
  )
  if (stale.length === 0) return
  await hub.db.run(
    "UPDATE deploy_versions SET status = 'failed', error = ? WHERE status = 'building'",
    ['interrupted: the hub stopped during the build (built again at its next start)'],
  )
  for (const { repo_id } of stale) {
    await hub.db.run('DELETE FROM deploy_heads WHERE repo_id = ?', [repo_id])
    const repo = await repos(repo_id)
    if (repo) void scheduleApply(hub, repo)
  }
}
