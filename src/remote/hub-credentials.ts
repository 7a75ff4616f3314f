import { spawn } from 'node:child_process'

/** The fields of Git's credential protocol for a hub URL. */
function describe(url: URL, extra: Record<string, string> = {}): string {
  const fields: Record<string, string> = {
    protocol: url.protocol.replace(/:$/, ''),
    host: url.host,
    ...extra,
  }
  return `${Object.entries(fields)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n\n`
}

function credentialCommand(
  args: string[],
  input: string,
): Promise<{ code: number; stdout: string }> {
  return new Promise((done) => {
    const child = spawn('git', ['credential', ...args], {
      // Never ask on a terminal: mlvc runs inside git hooks and scripts.
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '', SSH_ASKPASS: '' },
      stdio: ['pipe', 'pipe', 'ignore'],
    })
    let stdout = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
    })
    child.on('error', () => done({ code: 1, stdout: '' }))
    child.on('close', (code) => done({ code: code ?? 1, stdout }))
    child.stdin.on('error', () => undefined)
    child.stdin.end(input)
  })
}

/**
 * The user and token for a hub, as Git's credential helpers keep them (what `mlvc login` stored),
 * or MLVC_HUB_TOKEN (with MLVC_HUB_USER) from the environment; undefined when neither has one.
 */
export async function hubCredentials(
  url: URL,
): Promise<{ user: string; token: string } | undefined> {
  const envToken = process.env.MLVC_HUB_TOKEN
  if (envToken) return { user: process.env.MLVC_HUB_USER ?? '', token: envToken }
  const { code, stdout } = await credentialCommand(['fill'], describe(url))
  if (code !== 0) return undefined
  const fields = new Map(
    stdout
      .split('\n')
      .filter((line) => line.includes('='))
      .map(
        (line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const,
      ),
  )
  const token = fields.get('password')
  return token ? { user: fields.get('username') ?? '', token } : undefined
}

/** Stores a hub token with Git's credential helper (`git credential approve`). */
export async function storeHubCredentials(url: URL, user: string, token: string): Promise<boolean> {
  const { code } = await credentialCommand(
    ['approve'],
    describe(url, { username: user, password: token }),
  )
  return code === 0
}
