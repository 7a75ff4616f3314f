import { spawn } from 'node:child_process'
import { MlvcError } from '../core/index.ts'
import type { Repo } from './accounts.ts'
import type { Hub } from './hub.ts'
import { newSecret, secretHash } from './ids.ts'
import { redact } from './log.ts'

/**
 * Mirror sync with another Git server, both ways. The bare repository keeps, per branch:
 *   refs/heads/B              the hub's branch (what clients push)
 *   refs/mirror/heads/B       the mirror's branch as last fetched (clients can fetch it)
 *   refs/mirror-sync/heads/B  where both sides agreed at the last sync
 * A sync fetches the mirror, then per branch: equal → agreed; only the hub moved (the mirror's
 * head is an ancestor of the hub's) → pushed to the mirror; only the mirror moved → the hub's
 * branch follows; both moved → nothing is overwritten: both heads stay (the mirror's under
 * refs/mirror/heads/) and the conflict is recorded until a merge pushed to the hub resolves it.
 * When the mirror is down the error is recorded and the hub serves on; the next sync catches up.
 */
export interface MirrorStatus {
  url: string
  lastSync: string | null
  lastError: string | null
  conflicts: Array<{ ref: string; hub: string; mirror: string; found: string }>
}

interface MirrorRow {
  [k: string]: string | number | null
  repo_id: string
  url: string
  username: string | null
  secret: string | null
  webhook_hash: string | null
  interval_ms: number
  last_sync: number | null
  last_error: string | null
}

/** Git in a repository, with the mirror's credentials (as a header, never in a URL or an argument). */
function gitIn(
  dir: string,
  args: string[],
  auth?: { username: string | null; secret: string | null },
): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: 'C.UTF-8',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
  }
  if (auth?.secret) {
    const basic = Buffer.from(`${auth.username ?? ''}:${auth.secret}`).toString('base64')
    env.GIT_CONFIG_COUNT = '1'
    env.GIT_CONFIG_KEY_0 = 'http.extraHeader'
    env.GIT_CONFIG_VALUE_0 = `Authorization: Basic ${basic}`
  }
  return new Promise((done) => {
    const child = spawn('git', args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
    })
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    child.on('error', (err) => done({ code: 1, stdout, stderr: err.message }))
    child.on('close', (code) => done({ code: code ?? 1, stdout, stderr }))
  })
}

async function refs(dir: string, prefix: string): Promise<Map<string, string>> {
  const out = await gitIn(dir, ['for-each-ref', '--format=%(objectname) %(refname)', prefix])
  const map = new Map<string, string>()
  for (const line of out.stdout.split('\n')) {
    const [sha, ref] = line.split(' ')
    if (sha && ref) map.set(ref.slice(prefix.length), sha)
  }
  return map
}

async function isAncestor(dir: string, a: string, b: string): Promise<boolean> {
  return (await gitIn(dir, ['merge-base', '--is-ancestor', a, b])).code === 0
}

export async function mirrorOf(hub: Hub, repo: Repo): Promise<MirrorRow | undefined> {
  return hub.db.get<MirrorRow>('SELECT * FROM mirrors WHERE repo_id = ?', [repo.id])
}

/** Sets (or replaces) a repository's mirror; returns the webhook secret (shown once). */
export async function setMirror(
  hub: Hub,
  repo: Repo,
  input: {
    url: string
    username?: string | undefined
    secret?: string | undefined
    intervalMs?: number | undefined
  },
): Promise<{ webhookSecret: string }> {
  if (!/^(https?|git|ssh|file):\/\//.test(input.url) && !input.url.startsWith('/')) {
    throw new MlvcError(
      'USAGE',
      `mirror URL ${redact(input.url)}: expected an http(s)://, git://, ssh:// or file:// URL`,
    )
  }
  if (/^\w+:\/\/[^/]*@/.test(input.url)) {
    throw new MlvcError(
      'USAGE',
      'put the mirror credentials in username and password, not in its URL',
      {
        hint: 'URLs end up in logs and messages; credentials given apart never do',
      },
    )
  }
  const webhookSecret = newSecret()
  await hub.db.transaction(async (tx) => {
    await tx.run('DELETE FROM mirror_conflicts WHERE repo_id = ?', [repo.id])
    await tx.run('DELETE FROM mirrors WHERE repo_id = ?', [repo.id])
    await tx.run(
      'INSERT INTO mirrors (repo_id, url, username, secret, webhook_hash, interval_ms, last_sync, last_error) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL)',
      [
        repo.id,
        input.url,
        input.username ?? null,
        input.secret ?? null,
        secretHash(webhookSecret),
        input.intervalMs ?? hub.config.mirrorIntervalMs,
      ],
    )
  })
  return { webhookSecret }
}

export async function mirrorStatus(hub: Hub, repo: Repo): Promise<MirrorStatus | undefined> {
  const row = await mirrorOf(hub, repo)
  if (!row) return undefined
  const conflicts = await hub.db.all<{
    ref: string
    hub_sha: string
    mirror_sha: string
    found: number
  }>(
    'SELECT ref, hub_sha, mirror_sha, found FROM mirror_conflicts WHERE repo_id = ? ORDER BY ref',
    [repo.id],
  )
  return {
    url: row.url,
    lastSync: row.last_sync === null ? null : new Date(Number(row.last_sync)).toISOString(),
    lastError: row.last_error,
    conflicts: conflicts.map((c) => ({
      ref: `refs/heads/${c.ref}`,
      hub: c.hub_sha,
      mirror: c.mirror_sha,
      found: new Date(Number(c.found)).toISOString(),
    })),
  }
}

export function webhookMatches(row: MirrorRow, secret: string): boolean {
  return row.webhook_hash !== null && row.webhook_hash === secretHash(secret)
}

const running = new Map<string, Promise<MirrorStatus | undefined>>()

/** Syncs a repository with its mirror; one sync per repository at a time in this process. */
export function syncMirror(hub: Hub, repo: Repo): Promise<MirrorStatus | undefined> {
  const previous = running.get(repo.id) ?? Promise.resolve(undefined)
  const next = previous.catch(() => undefined).then(() => syncOnce(hub, repo))
  running.set(repo.id, next)
  void next.finally(() => {
    if (running.get(repo.id) === next) running.delete(repo.id)
  })
  return next
}

async function recordError(hub: Hub, repo: Repo, message: string): Promise<void> {
  await hub.db.run('UPDATE mirrors SET last_error = ? WHERE repo_id = ?', [
    redact(message).slice(0, 1000),
    repo.id,
  ])
  hub.log.warn('mirror sync failed', { repo: `${repo.owner}/${repo.name}`, error: message })
}

async function syncOnce(hub: Hub, repo: Repo): Promise<MirrorStatus | undefined> {
  const row = await mirrorOf(hub, repo)
  if (!row) return undefined
  const dir = hub.gitDir(repo.id)
  const auth = { username: row.username, secret: row.secret }
  const fetched = await gitIn(
    dir,
    ['fetch', '--quiet', '--prune', row.url, '+refs/heads/*:refs/mirror/heads/*'],
    auth,
  )
  if (fetched.code !== 0) {
    await recordError(
      hub,
      repo,
      `fetching ${row.url}: ${fetched.stderr.trim().split('\n').at(-1) ?? ''}`,
    )
    return mirrorStatus(hub, repo)
  }
  const [local, remote] = await Promise.all([
    refs(dir, 'refs/heads/'),
    refs(dir, 'refs/mirror/heads/'),
  ])
  const errors: string[] = []
  const conflicts: Array<{ ref: string; hub: string; mirror: string }> = []
  const agree = (branch: string, sha: string) =>
    gitIn(dir, ['update-ref', `refs/mirror-sync/heads/${branch}`, sha])
  for (const branch of new Set([...local.keys(), ...remote.keys()])) {
    const h = local.get(branch)
    const m = remote.get(branch)
    if (h === m && h) {
      await agree(branch, h)
    } else if (h && (!m || (await isAncestor(dir, m, h)))) {
      // Only the hub moved (or the branch is new here): the mirror follows.
      const pushed = await gitIn(
        dir,
        ['push', '--quiet', row.url, `${h}:refs/heads/${branch}`],
        auth,
      )
      if (pushed.code === 0) {
        await gitIn(dir, ['update-ref', `refs/mirror/heads/${branch}`, h])
        await agree(branch, h)
      } else errors.push(`pushing ${branch}: ${pushed.stderr.trim().split('\n').at(-1) ?? ''}`)
    } else if (m && (!h || (await isAncestor(dir, h, m)))) {
      // Only the mirror moved (or the branch is new there): the hub's branch follows, unless a
      // push moved it in the meantime (update-ref checks the old value).
      const moved = await gitIn(dir, ['update-ref', `refs/heads/${branch}`, m, h ?? ''])
      if (moved.code === 0) await agree(branch, m)
      else errors.push(`updating ${branch}: ${moved.stderr.trim()}`)
    } else if (h && m) {
      conflicts.push({ ref: branch, hub: h, mirror: m })
    }
  }
  const now = Date.now()
  await hub.db.transaction(async (tx) => {
    await tx.run('DELETE FROM mirror_conflicts WHERE repo_id = ?', [repo.id])
    for (const c of conflicts) {
      await tx.run(
        'INSERT INTO mirror_conflicts (repo_id, ref, hub_sha, mirror_sha, found) VALUES (?, ?, ?, ?, ?)',
        [repo.id, c.ref, c.hub, c.mirror, now],
      )
    }
    await tx.run('UPDATE mirrors SET last_sync = ?, last_error = ? WHERE repo_id = ?', [
      now,
      errors.length > 0 ? redact(errors.join('; ')).slice(0, 1000) : null,
      repo.id,
    ])
  })
  if (conflicts.length > 0) {
    hub.log.warn('mirror diverged', {
      repo: `${repo.owner}/${repo.name}`,
      branches: conflicts.map((c) => c.ref).join(','),
    })
  }
  return mirrorStatus(hub, repo)
}

/** Repositories whose scheduled pull is due (interval_ms > 0 and last_sync older than it). */
export async function dueMirrors(hub: Hub): Promise<string[]> {
  const rows = await hub.db.all<{ repo_id: string; interval_ms: number; last_sync: number | null }>(
    'SELECT repo_id, interval_ms, last_sync FROM mirrors WHERE interval_ms > 0',
  )
  const now = Date.now()
  return rows
    .filter((r) => r.last_sync === null || now - Number(r.last_sync) >= Number(r.interval_ms))
    .map((r) => r.repo_id)
}
