import { text } from 'node:stream/consumers'
import { MlvcError } from '../../core/index.ts'
import { git } from '../../git/index.ts'
import { storeHubCredentials } from '../../remote/index.ts'
import type { CommandResult, Io } from '../io.ts'
import { openTerminal } from '../prompt.ts'

function hubOrigin(value: string): URL {
  let url: URL
  try {
    url = new URL(value)
  } catch (err) {
    throw new MlvcError('USAGE', `${JSON.stringify(value)} is not a URL`, {
      cause: err,
      hint: 'mlvc login http(s)://HOST[:PORT]',
    })
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new MlvcError('USAGE', `${value}: a hub is reached over http:// or https://`)
  }
  return new URL(url.origin)
}

async function readToken(fromStdin: boolean): Promise<string> {
  if (fromStdin) return (await text(process.stdin)).trim()
  const terminal = openTerminal()
  if (!terminal)
    throw new MlvcError('USAGE', 'no terminal to ask for the token', {
      hint: 'pipe it in: mlvc login URL --user NAME --token-stdin',
    })
  try {
    return terminal.ask('token: ')
  } finally {
    terminal.close()
  }
}

/**
 * `mlvc login URL --user NAME`: checks the token with the hub, then stores it with Git's
 * credential helper (setting `credential.helper store` for the user when none is configured), where
 * both `git clone/push` and mlvc's hub remotes find it.
 */
export async function login(
  io: Io,
  [value]: [string],
  options: { user: string; tokenStdin?: true },
): Promise<CommandResult> {
  const hub = hubOrigin(value)
  const token = await readToken(options.tokenStdin === true)
  if (!token) throw new MlvcError('USAGE', 'no token given')
  const auth = `Basic ${Buffer.from(`${options.user}:${token}`).toString('base64')}`
  let response: Response
  try {
    response = await fetch(new URL('/api/v1/user', hub), {
      headers: { authorization: auth },
      signal: io.signal,
    })
  } catch (err) {
    throw new MlvcError('REMOTE', `${hub.origin}: ${(err as Error).message}`, {
      cause: err,
      hint: 'check the URL and that the hub is running',
    })
  }
  if (response.status !== 200) {
    throw new MlvcError(
      'PERMISSION',
      `${hub.origin} refused the token for ${options.user} (${response.status})`,
      {
        hint: 'check the user name and the token (mlvc hub token list USER shows its id, expiry and whether it was revoked)',
      },
    )
  }
  const me = (await response.json()) as {
    name: string
    token: { scope: string; expires: string | null }
  }
  const helper = await git(['config', '--global', '--get-all', 'credential.helper'], {
    cwd: io.cwd,
    okCodes: [0, 1],
  })
  if (helper.trim() === '')
    await git(['config', '--global', 'credential.helper', 'store'], { cwd: io.cwd })
  if (!(await storeHubCredentials(hub, options.user, token))) {
    throw new MlvcError('GIT', 'git credential approve failed: the token was not stored', {
      hint: 'check git config credential.helper',
    })
  }
  return {
    data: { hub: hub.origin, user: me.name, scope: me.token.scope, expires: me.token.expires },
    text: `logged in to ${hub.origin} as ${me.name} (token scope ${me.token.scope}${me.token.expires ? `, expires ${me.token.expires}` : ''})`,
  }
}
