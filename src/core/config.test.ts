import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { tempDir } from '../test-helpers/index.ts'
import {
  configBoolean,
  configString,
  configValue,
  loadConfig,
  mergeConfig,
  updateConfigFile,
  userConfigDir,
} from './config.ts'
import { isMlvcError } from './errors.ts'

const root = tempDir('mlvc-config')
let count = 0

/** A fresh user config folder and repository, with the given files (relative path → text). */
function layout(files: Record<string, string>): { userDir: string; repoDir: string } {
  const dir = join(root, `c${count++}`)
  const userDir = join(dir, 'user')
  const repoDir = join(dir, 'repo')
  mkdirSync(join(repoDir, '.mlvc'), { recursive: true })
  mkdirSync(userDir, { recursive: true })
  for (const [rel, text] of Object.entries(files)) writeFileSync(join(dir, rel), text)
  return { userDir, repoDir }
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise
  } catch (err) {
    if (isMlvcError(err)) return { code: err.code, message: err.message }
    throw err
  }
  throw new Error('expected an MlvcError')
}

describe('loadConfig', () => {
  it('merges user < committed < local: mappings deeply, lists and scalars replaced', async () => {
    const sources = layout({
      'user/config.yaml': 'remote:\n  default: home\n  jobs: 2\ntags: [a, b]\nuser: ada\n',
      'repo/.mlvc/config.yaml': 'remote:\n  default: origin\ntags: [c]\nstore:\n  path: shared\n',
      'repo/.mlvc/config.local.yaml': 'remote:\n  jobs: 8\nstore: null\n',
    })
    const loaded = await loadConfig(sources)
    expect(loaded.tree).toEqual({
      remote: { default: 'origin', jobs: 8 },
      tags: ['c'],
      user: 'ada',
      store: null,
    })
    expect(loaded.layers.map((l) => l.file)).toEqual([
      join(sources.userDir, 'config.yaml'),
      join(sources.repoDir, '.mlvc', 'config.yaml'),
      join(sources.repoDir, '.mlvc', 'config.local.yaml'),
    ])
  })

  it('skips files that do not exist; an empty file is an empty mapping', async () => {
    const sources = layout({ 'repo/.mlvc/config.local.yaml': '# nothing yet\n' })
    expect(await loadConfig(sources)).toEqual({
      tree: {},
      layers: [{ file: join(sources.repoDir, '.mlvc', 'config.local.yaml'), tree: {} }],
    })
    expect(await loadConfig({ userDir: sources.userDir })).toEqual({ tree: {}, layers: [] })
  })

  it('reads only the user config outside a repository', async () => {
    const sources = layout({
      'user/config.yaml': 'a: 1\n',
      'repo/.mlvc/config.yaml': 'a: 2\n',
    })
    expect((await loadConfig({ userDir: sources.userDir })).tree).toEqual({ a: 1 })
  })

  it('refuses YAML that does not parse, naming the file', async () => {
    const sources = layout({ 'repo/.mlvc/config.yaml': 'remote: [unclosed\n' })
    const path = join(sources.repoDir, '.mlvc', 'config.yaml')
    const err = await failure(loadConfig(sources))
    expect(err.code).toBe('BAD_CONFIG')
    expect(err.message.startsWith(`${path}: not valid YAML (`)).toBe(true)
  })

  it('refuses a key given twice, naming the file', async () => {
    const sources = layout({ 'user/config.yaml': 'a: 1\na: 2\n' })
    const err = await failure(loadConfig(sources))
    expect(err.code).toBe('BAD_CONFIG')
    expect(err.message).toMatch(/config\.yaml: not valid YAML \(.*unique/)
  })

  it.each([
    ['a list', '- a\n- b\n'],
    ['a string', 'just text\n'],
    ['a number', '42\n'],
  ])('refuses %s at the top level, naming the file', async (_, text) => {
    const sources = layout({ 'repo/.mlvc/config.local.yaml': text })
    const path = join(sources.repoDir, '.mlvc', 'config.local.yaml')
    expect(await failure(loadConfig(sources))).toEqual({
      code: 'BAD_CONFIG',
      message: `${path}: expected a mapping at the top level`,
    })
  })

  it('a config path that is a folder is a clear error naming it', async () => {
    const sources = layout({})
    mkdirSync(join(sources.userDir, 'config.yaml'))
    expect(await failure(loadConfig(sources))).toEqual({
      code: 'USAGE',
      message: `reading config ${join(sources.userDir, 'config.yaml')}: is a directory`,
    })
  })
})

describe('userConfigDir', () => {
  const saved = { mlvc: process.env.MLVC_CONFIG_HOME, xdg: process.env.XDG_CONFIG_HOME }
  const restore = (name: string, value: string | undefined) => {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
  afterEach(() => {
    restore('MLVC_CONFIG_HOME', saved.mlvc)
    restore('XDG_CONFIG_HOME', saved.xdg)
  })

  it('is $MLVC_CONFIG_HOME, else $XDG_CONFIG_HOME/mlvc, else ~/.config/mlvc', () => {
    process.env.MLVC_CONFIG_HOME = '/etc/mine'
    process.env.XDG_CONFIG_HOME = '/xdg'
    expect(userConfigDir()).toBe('/etc/mine')
    delete process.env.MLVC_CONFIG_HOME
    expect(userConfigDir()).toBe('/xdg/mlvc')
    process.env.XDG_CONFIG_HOME = ''
    expect(userConfigDir()).toBe(join(homedir(), '.config', 'mlvc'))
    delete process.env.XDG_CONFIG_HOME
    expect(userConfigDir()).toBe(join(homedir(), '.config', 'mlvc'))
  })

  it('is where loadConfig looks when no userDir is given', async () => {
    const sources = layout({ 'user/config.yaml': 'from: env\n' })
    process.env.MLVC_CONFIG_HOME = sources.userDir
    expect((await loadConfig({})).tree).toEqual({ from: 'env' })
  })
})

describe('reading values', () => {
  const tree = {
    store: { path: '/data', fsync: false, nested: { deep: 'yes' } },
    count: 3,
    empty: null,
    list: ['a'],
  }

  it('configValue follows dotted keys and stops at anything that is not a mapping', () => {
    expect(configValue(tree, 'store.nested.deep')).toBe('yes')
    expect(configValue(tree, 'store')).toEqual(tree.store)
    expect(configValue(tree, 'store.missing.deeper')).toBeUndefined()
    expect(configValue(tree, 'count.more')).toBeUndefined()
    expect(configValue(tree, 'list.0')).toBeUndefined()
  })

  it('configString and configBoolean check the type and name the key', () => {
    expect(configString(tree, 'store.path')).toBe('/data')
    expect(configString(tree, 'empty')).toBeUndefined()
    expect(configString(tree, 'absent')).toBeUndefined()
    expect(() => configString(tree, 'count')).toThrow(
      'config key count must be a string, got number',
    )
    expect(configBoolean(tree, 'store.fsync')).toBe(false)
    expect(configBoolean(tree, 'empty')).toBeUndefined()
    expect(() => configBoolean(tree, 'store.path')).toThrow(
      'config key store.path must be true or false, got /data',
    )
  })

  it('mergeConfig leaves its inputs as they were', () => {
    const base = { a: { b: 1, c: 2 } }
    const over = { a: { c: 3 } }
    expect(mergeConfig(base, over)).toEqual({ a: { b: 1, c: 3 } })
    expect(base).toEqual({ a: { b: 1, c: 2 } })
    expect(over).toEqual({ a: { c: 3 } })
  })
})

describe('updateConfigFile', () => {
  it('changes one value and keeps comments, order and layout', async () => {
    const dir = join(root, 'update')
    mkdirSync(dir)
    const path = join(dir, 'config.yaml')
    writeFileSync(
      path,
      [
        '# mlvc settings, written by hand',
        'remote:',
        '  default: origin # where pushes go',
        '',
        '  # the team bucket',
        '  team:',
        '    url: s3://bucket/ml',
        'store:',
        '  path: /data',
        '',
      ].join('\n'),
    )
    await updateConfigFile(path, (doc) => {
      doc.setIn(['remote', 'default'], 'team')
      doc.deleteIn(['store', 'path'])
      doc.setIn(['git', 'missingIsError'], true)
      return true
    })
    expect(readFileSync(path, 'utf8')).toBe(
      [
        '# mlvc settings, written by hand',
        'remote:',
        '  default: team # where pushes go',
        '',
        '  # the team bucket',
        '  team:',
        '    url: s3://bucket/ml',
        'store: {}',
        'git:',
        '  missingIsError: true',
        '',
      ].join('\n'),
    )
    expect(readdirSync(dir)).toEqual(['config.yaml'])
  })

  it('creates a missing file, and an empty one becomes a mapping', async () => {
    const dir = join(root, 'create')
    mkdirSync(dir)
    const path = join(dir, 'config.local.yaml')
    await updateConfigFile(path, (doc) => {
      doc.setIn(['store', 'path'], '/scratch')
      return true
    })
    expect(readFileSync(path, 'utf8')).toBe('store:\n  path: /scratch\n')
    writeFileSync(path, '')
    await updateConfigFile(path, (doc) => {
      doc.setIn(['a'], 1)
      return true
    })
    expect(readFileSync(path, 'utf8')).toBe('a: 1\n')
  })

  it('writes nothing when the edit returns false', async () => {
    const dir = join(root, 'unchanged')
    mkdirSync(dir)
    const path = join(dir, 'config.yaml')
    await updateConfigFile(path, () => false)
    expect(existsSync(path)).toBe(false)
  })

  it('refuses a file that does not parse and leaves it as it is', async () => {
    const dir = join(root, 'broken')
    mkdirSync(dir)
    const path = join(dir, 'config.yaml')
    writeFileSync(path, 'remote: [unclosed\n')
    let called = false
    const err = await failure(
      updateConfigFile(path, () => {
        called = true
        return true
      }),
    )
    expect(err.code).toBe('BAD_CONFIG')
    expect(err.message.startsWith(`${path}: not valid YAML (`)).toBe(true)
    expect(called).toBe(false)
    expect(readFileSync(path, 'utf8')).toBe('remote: [unclosed\n')
  })
})
