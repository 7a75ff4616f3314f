import { MlvcError } from '../core/index.ts'

/**
 * Names of users, organizations and repositories: ASCII letters, digits, `.`, `_`, `-`, starting
 * with a letter or digit, at most 64 characters, not ending in `.git` and never `..` anywhere. So
 * no name can be a path (`/`, `..`), hide a NUL or control character, or look like another name in
 * some font (no Unicode at all). The hub never uses a name as a file name either: repositories
 * live on disk under their ids.
 */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

export function checkName(
  name: string,
  what: 'user' | 'organization' | 'repository' | 'account',
): string {
  if (!NAME.test(name) || name.includes('..') || name.toLowerCase().endsWith('.git')) {
    throw new MlvcError('USAGE', `${JSON.stringify(name)} is not a valid ${what} name`, {
      hint: 'use 1 to 64 ASCII letters, digits, ".", "_" or "-", starting with a letter or digit (no "..", no ".git" ending)',
    })
  }
  return name
}

export function isValidName(name: string): boolean {
  return NAME.test(name) && !name.includes('..') && !name.toLowerCase().endsWith('.git')
}

export type Role = 'read' | 'write' | 'admin'

export const ROLES: readonly Role[] = ['read', 'write', 'admin']

export function parseRole(value: string, what = 'role'): Role {
  if (value === 'read' || value === 'write' || value === 'admin') return value
  throw new MlvcError('USAGE', `${what} must be read, write or admin, got ${JSON.stringify(value)}`)
}

export function rank(role: Role | undefined): number {
  return role === undefined ? 0 : ROLES.indexOf(role) + 1
}

/** The lower of two roles (a token's scope caps what its user may do). */
export function lowerRole(a: Role | undefined, b: Role | undefined): Role | undefined {
  return rank(a) <= rank(b) ? a : b
}
