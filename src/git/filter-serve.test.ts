import { describe, expect, it } from 'vitest'
import { type ConfigTree, layeredConfig } from '../core/index.ts'
import type { Store } from '../store/index.ts'
import { filterSettings, remoteFetcher } from './filter-serve.ts'
import { repoSession } from './session.ts'
import type { RepoWarning } from './warnings.ts'

const FILE = '/repo/.mlvc/config.yaml'
const configOf = (tree: ConfigTree) => layeredConfig([{ file: FILE, tree }])

describe('filterSettings', () => {
  it('has defaults, reads both keys and refuses a limit that is not a byte count', () => {
    const defaults = { inlineSmudgeLimit: 16 * 1024 * 1024, missing: 'warn' }
    expect(filterSettings(configOf({}))).toEqual(defaults)
    expect(filterSettings(configOf({ git: { inlineSmudgeLimit: null } }))).toEqual(defaults)
    const git = { inlineSmudgeLimit: 1024, missingIsError: true }
    expect(filterSettings(configOf({ git }))).toEqual({ inlineSmudgeLimit: 1024, missing: 'error' })
    for (const bad of [-1, 1.5, '16M']) {
      expect(() => filterSettings(configOf({ git: { inlineSmudgeLimit: bad } }))).toThrow(
        expect.objectContaining({ code: 'BAD_CONFIG', path: FILE }),
      )
    }
  })
})

describe('remoteFetcher', () => {
  it('counts everything as missing when no remote can be opened, and warns once', async () => {
    const warnings: RepoWarning[] = []
    const session = repoSession({
      workTree: '/nowhere',
      gitDir: '/nowhere/.git',
      store: async () => ({}) as Store,
      config: async () => configOf({}),
      onWarning: (w) => warnings.push(w),
    })
    const fetch = remoteFetcher(session)
    expect(await fetch(['x', 'y'])).toEqual({ missing: ['x', 'y'], repaired: 0 })
    expect(await fetch(['z'])).toEqual({ missing: ['z'], repaired: 0 })
    expect(warnings).toEqual([
      { kind: 'checkout-fetch-failed', message: 'no mlvc remote is configured' },
    ])
  })
})
