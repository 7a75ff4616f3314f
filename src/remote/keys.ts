import { MlvcError } from '../core/index.ts'

/** Rejects keys that could escape a remote's root or mean different things on different systems. */
export function checkKey(key: string, remote: string): string {
  const bad =
    key.length === 0 ||
    key.startsWith('/') ||
    key.includes('\\') ||
    key.includes('\0') ||
    key.split('/').some((part) => part === '' || part === '.' || part === '..')
  if (bad) throw new MlvcError('REMOTE', `remote ${remote}: invalid object key "${key}"`)
  return key
}
