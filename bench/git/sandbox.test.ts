import { describe, expect, it } from 'vitest'
import { BASE_GITCONFIG, sandboxEnv } from './sandbox.ts'

describe('sandbox environment', () => {
  const env = sandboxEnv({ home: '/h', tmp: '/h/tmp', ceiling: '/w', path: '/usr/bin' })

  it('isolates HOME, TMPDIR and the system config, and stops discovery at the run folder', () => {
    expect(env).toMatchObject({
      HOME: '/h',
      TMPDIR: '/h/tmp',
      PATH: '/usr/bin',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CEILING_DIRECTORIES: '/w',
    })
  })

  it('inherits nothing that would point at the user’s config or repositories', () => {
    for (const key of [
      'GIT_CONFIG_GLOBAL',
      'GIT_DIR',
      'XDG_CONFIG_HOME',
      'MLVC_STORE',
      'DBX_REPO',
    ]) {
      expect(env[key]).toBeUndefined()
    }
    expect(Object.keys(env).every((k) => /^(PATH|HOME|TMPDIR|LANG|GIT_|AWS_SDK)/.test(k))).toBe(
      true,
    )
  })

  it('names the default branch main', () => {
    expect(BASE_GITCONFIG).toMatch(/defaultBranch = main/)
  })
})
