import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT } from '../test-helpers/index.ts'
import { type ConfigTree, layeredConfig } from './config.ts'
import { describeSettings, readSetting, type SettingKey, settingSource } from './settings.ts'

const USER = '/home/ada/.config/mlvc/config.yaml'
const REPO = '/repo/.mlvc/config.yaml'
const LOCAL = '/repo/.mlvc/config.local.yaml'
const only = (tree: ConfigTree) => layeredConfig([{ file: REPO, tree }])

/** The BAD_CONFIG error reading `key` from `config` throws. */
function failure(config: ReturnType<typeof only>, key: SettingKey) {
  try {
    readSetting(config, key)
  } catch (err) {
    return err
  }
  throw new Error(`${key} read without an error`)
}

describe('readSetting', () => {
  it('gives every setting its default when no file sets it (or sets it to null)', () => {
    const defaults = {
      'store.path': undefined,
      'store.fsync': false,
      'git.inlineSmudgeLimit': 16 * 1024 * 1024,
      'git.missingIsError': false,
      'store.compress': false,
      'merge.strategy': 'fail',
      'merge.tensors': [],
      'remote.default': undefined,
      remotes: [],
      'transfer.concurrency': undefined,
      'experiments.roots': {},
    }
    const empty = layeredConfig([])
    const nulls = only({
      store: { path: null, fsync: null, compress: null },
      git: null,
      merge: null,
      remotes: null,
    })
    for (const [key, value] of Object.entries(defaults)) {
      expect(readSetting(empty, key as SettingKey)).toEqual(value)
      expect(readSetting(nulls, key as SettingKey)).toEqual(value)
    }
    expect(Object.keys(defaults).sort()).toEqual(
      describeSettings()
        .map((s) => s.key)
        .sort(),
    )
  })

  it('reads values of the right kind', () => {
    const config = only({
      store: { path: '~/stores/a', fsync: true },
      git: { inlineSmudgeLimit: 0, missingIsError: true },
      merge: { strategy: 'average:weights=1/3', tensors: { '*.bias': 'ours', 'emb.*': 'theirs' } },
      remote: { default: 'origin' },
      remotes: {
        origin: { url: '/mnt/store' },
        models: { url: 's3://b/p', region: 'eu-west-1', pathStyle: true, encryption: 'k-1' },
      },
      experiments: { roots: { storage: '~/dbx', scratch: '/scratch' } },
    })
    expect(readSetting(config, 'store.path')).toBe('~/stores/a')
    expect(readSetting(config, 'store.fsync')).toBe(true)
    expect(readSetting(config, 'git.inlineSmudgeLimit')).toBe(0)
    expect(readSetting(config, 'git.missingIsError')).toBe(true)
    expect(readSetting(config, 'merge.strategy')).toBe('average:weights=1/3')
    expect(readSetting(config, 'merge.tensors')).toEqual([
      ['*.bias', 'ours'],
      ['emb.*', 'theirs'],
    ])
    expect(readSetting(config, 'remote.default')).toBe('origin')
    const absent = { endpoint: undefined, profile: undefined, keyFile: undefined }
    expect(readSetting(config, 'remotes')).toEqual([
      {
        name: 'models',
        url: 's3://b/p',
        region: 'eu-west-1',
        pathStyle: true,
        encryption: 'k-1',
        ...absent,
      },
      {
        name: 'origin',
        url: '/mnt/store',
        region: undefined,
        pathStyle: undefined,
        encryption: undefined,
        ...absent,
      },
    ])
    expect(readSetting(config, 'experiments.roots')).toEqual({
      storage: join(homedir(), 'dbx'),
      scratch: '/scratch',
    })
  })

  it.each<[string, SettingKey, ConfigTree, string]>([
    [
      'a string for a flag',
      'store.fsync',
      { store: { fsync: 'yes' } },
      'store.fsync must be true or false, not "yes"',
    ],
    [
      'a size with a unit',
      'git.inlineSmudgeLimit',
      { git: { inlineSmudgeLimit: '16MiB' } },
      'git.inlineSmudgeLimit must be a whole number of bytes (0 or more), not "16MiB"',
    ],
    [
      'a negative size',
      'git.inlineSmudgeLimit',
      { git: { inlineSmudgeLimit: -1 } },
      'git.inlineSmudgeLimit must be a whole number of bytes (0 or more), not -1',
    ],
    [
      'a number for a path',
      'store.path',
      { store: { path: 3 } },
      'store.path must be a non-empty string, not 3',
    ],
    [
      'a list for a strategy',
      'merge.strategy',
      { merge: { strategy: ['ours'] } },
      'merge.strategy must be a non-empty string, not a list',
    ],
    [
      'a pattern without a strategy',
      'merge.tensors',
      { merge: { tensors: { '*.bias': true } } },
      'merge.tensors."*.bias" must be a non-empty string, not true',
    ],
    [
      'a list of remotes',
      'remotes',
      { remotes: ['origin'] },
      'remotes must be a mapping of remote name to { url, … }, not a list',
    ],
    [
      'a remote without a url',
      'remotes',
      { remotes: { origin: { region: 'x' } } },
      'remotes.origin.url must be a non-empty string, not missing',
    ],
    [
      'a flag that is not one',
      'remotes',
      { remotes: { o: { url: '/x', pathStyle: 'on' } } },
      'remotes.o.pathStyle must be true or false, not "on"',
    ],
    [
      'a relative root',
      'experiments.roots',
      { experiments: { roots: { s: 'rel/dir' } } },
      'experiments.roots.s must be an absolute path, not "rel/dir"',
    ],
  ])('refuses %s: BAD_CONFIG naming the file, the key and the value', (_, key, tree, detail) => {
    expect(failure(only(tree), key)).toMatchObject({
      code: 'BAD_CONFIG',
      message: `${REPO}: ${detail}`,
      path: REPO,
      hint: expect.stringContaining(REPO),
    })
  })

  it('names the file that set the bad value, not the last one read', () => {
    const config = layeredConfig([
      { file: USER, tree: { git: { inlineSmudgeLimit: 'big' } } },
      { file: REPO, tree: { git: { missingIsError: true } } },
      { file: LOCAL, tree: { store: { fsync: true } } },
    ])
    expect(failure(config, 'git.inlineSmudgeLimit')).toMatchObject({ path: USER })
    const fixed = layeredConfig([
      ...config.layers,
      { file: LOCAL, tree: { git: { inlineSmudgeLimit: 1 } } },
    ])
    expect(readSetting(fixed, 'git.inlineSmudgeLimit')).toBe(1)
    expect(settingSource(fixed, ['git', 'inlineSmudgeLimit'])).toBe(
      `git.inlineSmudgeLimit in ${LOCAL}`,
    )
    expect(settingSource(fixed, ['merge', 'tensors', '*.bias'])).toBe(
      'merge.tensors."*.bias" in config',
    )
  })
})

describe('README', () => {
  it('lists every setting in its Configuration section', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
    const section = readme.slice(readme.indexOf('\n## Configuration'))
    const listed = section.slice(0, section.indexOf('\n## ', 1))
    for (const { key } of describeSettings()) expect(listed).toContain(`\`${key}\``)
  })
})
