import { hubRemote, parseHubUrl, type Remote } from '../remote/index.ts'
import { runGit } from './exec.ts'

/** How long to wait for an origin to say whether it is a hub. */
const PROBE_MS = 3000

/**
 * The mlvc remote a repository without any uses: Git's `origin`, when it is an mlvc hub — an
 * http(s)://HOST/OWNER/REPO URL whose server answers the hub's health call. Undefined otherwise
 * (GitHub and other Git hosts are never taken for hubs: they do not answer it).
 */
export async function hubFromGitOrigin(workTree: string): Promise<Remote | undefined> {
  // Never an error of its own: without a hub origin, the caller's "no mlvc remote" is the answer.
  const result = await runGit(['config', '--get', 'remote.origin.url'], { cwd: workTree }).catch(
    () => undefined,
  )
  const url = result?.stdout.toString().trim() ?? ''
  if (result?.code !== 0 || !/^https?:\/\//i.test(url)) return undefined
  let hub: URL
  try {
    hub = parseHubUrl(url, 'origin').hub
  } catch {
    return undefined
  }
  try {
    const response = await fetch(new URL('/api/v1/health', hub), {
      signal: AbortSignal.timeout(PROBE_MS),
    })
    const body = (await response.json()) as { ok?: unknown; schema?: unknown }
    if (body.ok !== true || typeof body.schema !== 'number') return undefined
  } catch {
    return undefined
  }
  // The URL may carry credentials (http://user:token@host/…): the remote finds them through Git's
  // credential helper instead, so they never reach a message.
  const clean = new URL(url)
  clean.username = ''
  clean.password = ''
  return hubRemote('origin', clean.toString())
}
