import { createHash, randomBytes } from 'node:crypto'

/** A random id with a kind prefix (`u_…`, `r_…`): ids, not names, name things on disk. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`
}

/** A new token's secret: 32 random bytes; only its hash is stored. */
export function newSecret(): string {
  return `mlvc_${randomBytes(32).toString('base64url')}`
}

/**
 * How a token is stored. A plain sha256 is enough for 256-bit random secrets (no dictionary to
 * try); a slow password hash would only make every request slow.
 */
export function secretHash(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex')
}
