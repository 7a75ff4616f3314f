import { chmod, mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fsError, isErrno, MlvcError, userConfigDir, writeFileAtomic } from '../core/index.ts'
import { keyFromSecret, type MasterKey } from './crypt.ts'

/**
 * Encryption keys live outside Git, one file per key in the user's mlvc folder
 * (`~/.config/mlvc/keys/<id>.key`, mode 0600); a remote's config names only the key's public id,
 * so clones know which key they need. `remotes.NAME.keyFile` in the ignored config.local.yaml
 * points elsewhere (a key on a mounted secret volume).
 */
const HEADER = 'mlvc-key-v1'

export function keyDir(): string {
  return join(userConfigDir(), 'keys')
}

/** The text of a key file: `mlvc-key-v1 <id> <base64 secret>`; share it only with teammates. */
export function formatKey(key: MasterKey): string {
  return `${HEADER} ${key.id} ${key.secret.toString('base64')}\n`
}

export function parseKey(text: string, where: string): MasterKey {
  const [header, id, secret] = text.trim().split(/\s+/)
  const bytes = Buffer.from(secret ?? '', 'base64')
  if (header !== HEADER || bytes.length !== 32) {
    throw new MlvcError(
      'BAD_CONFIG',
      `${where}: not an mlvc key (expected "${HEADER} <id> <secret>")`,
    )
  }
  const key = keyFromSecret(bytes)
  if (key.id !== id) {
    throw new MlvcError(
      'BAD_CONFIG',
      `${where}: the key's id says ${id} but its secret is ${key.id}`,
      {
        hint: 'the file was edited or cut short; export it again from a teammate',
      },
    )
  }
  return key
}

export async function saveKey(key: MasterKey): Promise<string> {
  const dir = keyDir()
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 })
  } catch (err) {
    throw fsError(err, 'creating', dir)
  }
  const path = join(dir, `${key.id}.key`)
  await writeFileAtomic(path, formatKey(key))
  await chmod(path, 0o600)
  return path
}

/** Loads the key `id` for remote `remote`; a missing key is one line saying how to get it. */
export async function loadKey(id: string, remote: string, keyFile?: string): Promise<MasterKey> {
  const path = keyFile ?? join(keyDir(), `${id}.key`)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if (isErrno(err, 'ENOENT')) {
      throw new MlvcError(
        'MISSING_KEY',
        `remote ${remote} is encrypted with key ${id}, which this machine does not have`,
        {
          hint: `ask a teammate for it (mlvc key export ${id} > key.txt) and run mlvc key import key.txt`,
        },
      )
    }
    throw fsError(err, 'reading key', path)
  }
  const key = parseKey(text, path)
  if (key.id !== id) {
    throw new MlvcError('BAD_CONFIG', `remote ${remote} needs key ${id}; ${path} holds ${key.id}`)
  }
  return key
}
