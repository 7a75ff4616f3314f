import { homedir } from 'node:os'
import { isAbsolute, join } from 'node:path'
import { isTree, type LoadedConfig } from './config.ts'
import { fileError } from './errors.ts'

/**
 * Every setting mlvc reads from its config files, with its type once read. A setting that is
 * absent (or null) reads as its default; a value of the wrong kind is a BAD_CONFIG error naming
 * the key, the file that set it and the value. README's "Configuration" lists them all.
 */
export interface Settings {
  'store.path': string | undefined
  'store.fsync': boolean
  'store.compress': boolean
  'git.inlineSmudgeLimit': number
  'git.missingIsError': boolean
  'merge.strategy': string
  'merge.tensors': Array<[pattern: string, strategy: string]>
  'remote.default': string | undefined
  remotes: Array<RemoteSettings>
  'transfer.concurrency': number | undefined
  'experiments.roots': Record<string, string>
}

export type SettingKey = keyof Settings

/** One entry of `remotes` (see src/remote/config.ts for what each field does). */
export interface RemoteSettings {
  name: string
  url: string
  endpoint: string | undefined
  region: string | undefined
  profile: string | undefined
  pathStyle: boolean | undefined
  encryption: string | undefined
  keyFile: string | undefined
}

/** Throws BAD_CONFIG for the value at `path` below the setting's key: it is not `expected`. */
type Reject = (path: readonly string[], expected: string) => never

interface SettingSpec<T> {
  /** What a value looks like, as README and errors say it: `true or false`. */
  type: string
  default: T
  /** What it does, for README. */
  doc: string
  /** The value read, or `reject` for what is wrong with it. */
  read(value: unknown, reject: Reject): T
}

const MiB = 1024 * 1024

function text(value: unknown, reject: Reject, path: readonly string[] = []): string {
  if (typeof value !== 'string' || value.length === 0) reject(path, 'a non-empty string')
  return value
}

function flag(value: unknown, reject: Reject, path: readonly string[] = []): boolean {
  if (typeof value !== 'boolean') reject(path, 'true or false')
  return value
}

/** A mapping's entries, in the order of the file; `reject` unless it is a mapping. */
function entries(value: unknown, reject: Reject, expected: string): Array<[string, unknown]> {
  if (!isTree(value)) reject([], expected)
  return Object.entries(value)
}

/** An optional field of a mapping entry: absent and null read as undefined. */
function optional<T>(
  value: unknown,
  path: readonly string[],
  read: (value: unknown, reject: Reject, path: readonly string[]) => T,
  reject: Reject,
): T | undefined {
  return value === undefined || value === null ? undefined : read(value, reject, path)
}

function remote(name: string, value: unknown, reject: Reject): RemoteSettings {
  if (!isTree(value)) reject([name], 'a mapping with at least url')
  const field = (key: string) => optional(value[key], [name, key], text, reject)
  return {
    name,
    url: text(value.url, reject, [name, 'url']),
    endpoint: field('endpoint'),
    region: field('region'),
    profile: field('profile'),
    pathStyle: optional(value.pathStyle, [name, 'pathStyle'], flag, reject),
    encryption: field('encryption'),
    keyFile: field('keyFile'),
  }
}

/** A path from config: `~` and `~/…` are the home folder. */
export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path
}

const SETTINGS: { [K in SettingKey]: SettingSpec<Settings[K]> } = {
  'store.path': {
    type: 'a path',
    default: undefined,
    doc: 'where the store is (relative to the repository root; `~/` is the home folder); `$MLVC_STORE` wins over it',
    read: (value, reject) => text(value, reject),
  },
  'store.fsync': {
    type: 'true or false',
    default: false,
    doc: 'flush packs and indexes to disk before a command reports success (durable across power loss; about 2× slower)',
    read: (value, reject) => flag(value, reject),
  },
  'store.compress': {
    type: 'true or false',
    default: false,
    doc: 'store tensor data as byte planes and other data deflated where that shrinks it: BF16 weights take about 0.67× their size, F32 about 0.84×, but adding and reading them is 2–3× slower (BENCHMARKS.md, compress); manifests, tensor tables and deltas of changed tensors are deflated either way',
    read: (value, reject) => flag(value, reject),
  },
  'git.inlineSmudgeLimit': {
    type: 'a whole number of bytes',
    default: 16 * MiB,
    doc: 'files larger than this are checked out by mlvc after git is done, never through git’s memory',
    read: (value, reject) =>
      typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
        ? value
        : reject([], 'a whole number of bytes (0 or more)'),
  },
  'git.missingIsError': {
    type: 'true or false',
    default: false,
    doc: 'a checkout whose content is missing or whose stub is unusable fails instead of leaving the stub with a warning',
    read: (value, reject) => flag(value, reject),
  },
  'merge.strategy': {
    type: 'a merge strategy',
    default: 'fail',
    doc: 'how tensors changed differently on both sides merge when nothing more specific says (see Merging checkpoints)',
    read: (value, reject) => text(value, reject),
  },
  'merge.tensors': {
    type: 'a mapping of tensor-name pattern to strategy',
    default: [],
    doc: 'strategies for tensors whose names match a pattern (`"*.bias": ours`), the first match winning',
    read: (value, reject) =>
      entries(value, reject, 'a mapping of tensor-name pattern to strategy').map(
        ([pattern, strategy]): [string, string] => [pattern, text(strategy, reject, [pattern])],
      ),
  },
  'remote.default': {
    type: 'a remote name',
    default: undefined,
    doc: 'the remote push, fetch, pull and checkouts use when none is named (else the only one configured)',
    read: (value, reject) => text(value, reject),
  },
  remotes: {
    type: 'a mapping of name to { url, endpoint, region, profile, pathStyle, encryption, keyFile }',
    default: [],
    doc: 'the mlvc remotes (`mlvc remote add` writes them); credentials are never read from here',
    read: (value, reject) =>
      entries(value, reject, 'a mapping of remote name to { url, … }')
        .map(([name, spec]) => remote(name, spec, reject))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  },
  'transfer.concurrency': {
    type: 'a whole number from 1 to 64',
    default: undefined,
    doc: 'requests a transfer keeps in flight, for every remote (8 when not set: a push of 1 GiB took as long with 16, which only used more memory)',
    read: (value, reject) =>
      typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 64
        ? value
        : reject([], 'a whole number from 1 to 64'),
  },
  'experiments.roots': {
    type: 'a mapping of root name to absolute path',
    default: {},
    doc: 'this machine’s named storage roots for experiment RepoFiles (`~/` is the home folder)',
    read: (value, reject) => {
      const roots: Record<string, string> = {}
      for (const [name, path] of entries(value, reject, 'a mapping of root name to path')) {
        const expanded = expandHome(text(path, reject, [name]))
        if (!isAbsolute(expanded)) reject([name], 'an absolute path')
        roots[name] = expanded
      }
      return roots
    },
  },
}

/** Each setting's key, type and what it does, in the order README lists them. */
export function describeSettings(): Array<{ key: string; type: string; doc: string }> {
  return Object.entries(SETTINGS).map(([key, spec]) => ({ key, type: spec.type, doc: spec.doc }))
}

function valueAt(tree: unknown, path: readonly string[]): unknown {
  let node = tree
  for (const part of path) {
    if (!isTree(node)) return undefined
    node = node[part]
  }
  return node
}

/**
 * The file that sets the value at `path` (the last layer that has it), or, when none does, the
 * mapping that should hold it; undefined for a config built in memory.
 */
export function settingFile(config: LoadedConfig, path: readonly string[]): string | undefined {
  for (let end = path.length; end > 0; end--) {
    const at = path.slice(0, end)
    const layer = config.layers.findLast((l) => valueAt(l.tree, at) !== undefined)
    if (layer) return layer.file
  }
  return undefined
}

/** A key as config files spell it; a part that holds dots or spaces is quoted (`merge.tensors."*.bias"`). */
export function keyName(path: readonly string[]): string {
  return path.map((part) => (/^[\w-]+$/.test(part) ? part : JSON.stringify(part))).join('.')
}

/** Where a setting's value comes from, for other layers' messages: `merge.strategy in FILE`. */
export function settingSource(config: LoadedConfig, path: readonly string[]): string {
  const file = settingFile(config, path)
  return `${keyName(path)} in ${file ?? 'config'}`
}

function shown(value: unknown): string {
  if (value === undefined) return 'missing'
  if (Array.isArray(value)) return 'a list'
  if (isTree(value)) return 'a mapping'
  if (typeof value === 'string') {
    const cut = value.length > 60 ? `${value.slice(0, 60)}…` : value
    return JSON.stringify(cut)
  }
  return String(value)
}

/**
 * A setting's value, checked, or its default when no config file sets it. BAD_CONFIG names the
 * key, the file that set it and the value: `.mlvc/config.yaml: git.inlineSmudgeLimit must be a
 * whole number of bytes (0 or more), not "16MiB"`.
 */
export function readSetting<K extends SettingKey>(config: LoadedConfig, key: K): Settings[K] {
  const spec: SettingSpec<Settings[K]> = SETTINGS[key]
  const path = key.split('.')
  const value = valueAt(config.tree, path)
  if (value === undefined || value === null) return spec.default
  return spec.read(value, (below, expected) => {
    const at = [...path, ...below]
    const file = settingFile(config, at) ?? 'config'
    const name = keyName(at)
    throw fileError(
      'BAD_CONFIG',
      file,
      `${name} must be ${expected}, not ${shown(valueAt(config.tree, at))}`,
      {
        hint: `fix or remove ${name} in ${file}`,
      },
    )
  })
}
