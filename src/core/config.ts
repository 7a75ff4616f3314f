import { homedir } from 'node:os'
import { join } from 'node:path'
import { parse, parseDocument } from 'yaml'
import { MlvcError } from './errors.ts'
import { writeFileAtomic } from './fs.ts'
import { readTextIfExists } from './read.ts'

/** A parsed YAML mapping. Values are validated where they are read (see readSetting). */
export type ConfigTree = { [key: string]: unknown }

export interface ConfigSources {
  /** The folder that holds `.mlvc/` (a work tree root), if any. */
  repoDir?: string | undefined
  /** @default $MLVC_CONFIG_HOME, else $XDG_CONFIG_HOME/mlvc, else ~/.config/mlvc */
  userDir?: string | undefined
}

/** One config file as read. */
export interface ConfigLayer {
  /** Named in errors about a value it sets. */
  file: string
  tree: ConfigTree
}

/** The configuration seen from one place: its files, lowest precedence first, and their merge. */
export interface LoadedConfig {
  tree: ConfigTree
  layers: ConfigLayer[]
}

/** A configuration of layers, lowest precedence first (see mergeConfig). */
export function layeredConfig(layers: ConfigLayer[]): LoadedConfig {
  let tree: ConfigTree = {}
  for (const layer of layers) tree = mergeConfig(tree, layer.tree)
  return { tree, layers }
}

export function userConfigDir(): string {
  if (process.env.MLVC_CONFIG_HOME) return process.env.MLVC_CONFIG_HOME
  const xdg = process.env.XDG_CONFIG_HOME
  return join(xdg && xdg.length > 0 ? xdg : join(homedir(), '.config'), 'mlvc')
}

async function readYaml(path: string): Promise<ConfigTree | undefined> {
  const text = await readTextIfExists(path, 'reading config')
  return text === undefined ? undefined : parseConfig(text, path)
}

/** A config file's text as a mapping; BAD_CONFIG naming `path` when it is not one. */
export function parseConfig(text: string, path: string): ConfigTree {
  let value: unknown
  try {
    value = parse(text)
  } catch (err) {
    throw new MlvcError('BAD_CONFIG', `${path}: not valid YAML (${(err as Error).message})`, {
      cause: err,
    })
  }
  if (value === null || value === undefined) return {}
  if (!isTree(value)) {
    throw new MlvcError('BAD_CONFIG', `${path}: expected a mapping at the top level`)
  }
  return value
}

export function isTree(value: unknown): value is ConfigTree {
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
  const layers: ConfigLayer[] = []
  for (const file of paths) {
    const tree = await readYaml(file)
    if (tree !== undefined) layers.push({ file, tree })
  }
  return layeredConfig(layers)
}

/**
 * The value at a dotted key (`store.path`), or undefined. configValue, configString and
 * configBoolean check no schema and name no file: a repository's settings are read with
 * readSetting (src/core/settings.ts); these serve the hub's own config file (src/hub/config.ts).
 */
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
