import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { readSetting } from '../core/index.ts'
import { tempDir } from '../test-helpers/index.ts'
import { readRepoConfig } from './session.ts'
import { isolateGit, testWorkTree } from './test-helpers/work-tree.ts'

const root = tempDir('mlvc-session')
beforeAll(() => isolateGit(root))

describe('readRepoConfig', () => {
  it('reads the committed config from the index, in its place: over the user’s, under the local one', async () => {
    const dir = join(root, 'clone')
    const committed =
      'remote:\n  default: origin\ngit:\n  missingIsError: true\n  inlineSmudgeLimit: big\n'
    await testWorkTree(dir, committed)
    // A clone's checkout: the index has .mlvc/config.yaml, the work tree not yet.
    rmSync(join(dir, '.mlvc', 'config.yaml'))
    const user = join(root, 'home', 'mlvc', 'config.yaml')
    mkdirSync(join(root, 'home', 'mlvc'), { recursive: true })
    writeFileSync(user, 'remote:\n  default: home\ngit:\n  missingIsError: false\n')
    writeFileSync(join(dir, '.mlvc', 'config.local.yaml'), 'remote:\n  default: mine\n')

    const index = `${join(dir, '.mlvc', 'config.yaml')} (in git's index)`
    let config = await readRepoConfig(dir)
    expect(config.layers.map((l) => l.file)).toEqual([
      user,
      index,
      join(dir, '.mlvc', 'config.local.yaml'),
    ])
    expect(readSetting(config, 'git.missingIsError')).toBe(true)
    expect(readSetting(config, 'remote.default')).toBe('mine')
    expect(() => readSetting(config, 'git.inlineSmudgeLimit')).toThrow(
      expect.objectContaining({ code: 'BAD_CONFIG', path: index }),
    )
    rmSync(join(dir, '.mlvc', 'config.local.yaml'))
    config = await readRepoConfig(dir)
    expect(readSetting(config, 'remote.default')).toBe('origin')
  })
})
