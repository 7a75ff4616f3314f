import { homedir } from 'node:os'
import { join } from 'node:path'
import { parse, parseDocument } from 'yaml'
import { MlvcError } from './errors.ts'
import { writeFileAtomic } from './fs.ts'
import { readTextIfExists } from './read.ts'

/** A parsed YAML mapping. Values are validated where they are read (see `configString` …). */
export type ConfigTree = { [key: string]: unknown }

export interface ConfigSources {
  /** The folder that holds `.mlvc/` (a work tree root), if any. */
  repoDir?: string | undefined
  /** @default $MLVC_CONFIG_HOME, else $XDG_CONFIG_HOME/mlvc, else ~/.config/mlvc */
  userDir?: string | undefined
}

export interface LoadedConfig {
  tree: ConfigTree
  files: string[]
}

export function userConfigDir(): string {
  if (process.env.MLVC_CONFIG_HOME) return process.env.MLVC_CONFIG_HOME
  const xdg = process.env.XDG_CONFIG_HOME
  return join(xdg && xdg.length > 0 ? xdg : join(homedir(), '.config'), 'mlvc')
}

async function readYaml(path: string): Promise<ConfigTree | undefined> {
  const text = await readTextIfExists(path, 'reading config')
  if (text === undefined) return undefined
  let value: unknown
  try {
    value = parse(text)
  } catch (err) {
    throw new MlvcError('BAD_CONFIG', `${path}: not valid YAML (${(err as Error).message})`, {
      cause: err,
    })
  }
  if (value === null || value === undefined) return {}
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new MlvcError('BAD_CONFIG', `${path}: expected a mapping at the top level`)
  }
  return value as ConfigTree
}

function isTree(value: unknown): value is ConfigTree {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Deep merge; `over` wins. Arrays and scalars are replaced, mappings merged. */
export function mergeConfig(base: ConfigTree, over: ConfigTree): ConfigTree {
  const out: ConfigTree = { ...base }
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key]
    out[key] = isTree(prev) && isTree(value) ? mergeConfig(prev, value) : value
  }
  return out
}

/**
 * Loads and merges, lowest precedence first: the user's config, the repository's committed
 * `.mlvc/config.yaml`, and its ignored `.mlvc/config.local.yaml`.
 */
export async function loadConfig(sources: ConfigSources): Promise<LoadedConfig> {
  const paths = [join(sources.userDir ?? userConfigDir(), 'config.yaml')]
  if (sources.repoDir) {
    paths.push(join(sources.repoDir, '.mlvc', 'config.yaml'))
    paths.push(join(sources.repoDir, '.mlvc', 'config.local.yaml'))
  }
  let tree: ConfigTree = {}
  const files: string[] = []
  for (const path of paths) {
    const layer = await readYaml(path)
    if (layer === undefined) continue
    tree = mergeConfig(tree, layer)
    files.push(path)
  }
  return { tree, files }
}

/** The value at a dotted key (`store.path`), or undefined. */
export function configValue(tree: ConfigTree, key: string): unknown {
  let node: unknown = tree
  for (const part of key.split('.')) {
    if (!isTree(node)) return undefined
    node = node[part]
  }
  return node
}

export function configString(tree: ConfigTree, key: string): string | undefined {
  const value = configValue(tree, key)
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') {
    throw new MlvcError('BAD_CONFIG', `config key ${key} must be a string, got ${typeof value}`)
  }
  return value
}

export function configBoolean(tree: ConfigTree, key: string): boolean | undefined {
  const value = configValue(tree, key)
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'boolean') {
    throw new MlvcError(
      'BAD_CONFIG',
      `config key ${key} must be true or false, got ${String(value)}`,
    )
  }
  return value
}

/**
 * Edits one YAML config file in place, keeping its comments and layout: `edit` receives the
 * document (yaml's Document API: setIn, deleteIn, getIn) and the file is written atomically,
 * unless `edit` returns false (nothing changed).
 */
export async function updateConfigFile(
  path: string,
  edit: (doc: ReturnType<typeof parseDocument>) => boolean | undefined,
): Promise<void> {
  const doc = parseDocument((await readTextIfExists(path, 'reading config')) ?? '')
  if (doc.errors.length > 0) {
    throw new MlvcError('BAD_CONFIG', `${path}: not valid YAML (${doc.errors[0]?.message})`)
  }
  if (doc.contents === null) doc.contents = doc.createNode({}) as unknown as typeof doc.contents
  if (edit(doc) === false) return
  await writeFileAtomic(path, doc.toString(), { fsync: false })
}
