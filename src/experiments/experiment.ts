import { mkdir } from 'node:fs/promises'
import { hostname } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { fsError, isErrno, MlvcError, writeFileAtomic } from '../core/index.ts'
import { type AttachOptions, attachFile, type RepoFileRef } from './attach.ts'
import { formatDbxJson } from './dbx-json.ts'
import { copyExpFile, type ExpFileRef, writeExpFile } from './files.ts'
import { readGitState } from './git-state.ts'
import { isSafeId, newExperimentId } from './ids.ts'
import { logFileName } from './log-read.ts'
import { type LogWriter, openLogWriter } from './log-write.ts'
import { type ExpMeta, META_FILE, readMeta } from './meta.ts'
import { checkRelPath, joinInside, toPosixRel } from './paths.ts'
import type { ExpRepo } from './repo.ts'
import { loadExperiments, pickExperiment } from './scan.ts'

/** Keys dbxlogger reserves in meta.json; extraMeta may not use them. */
const RESERVED = new Set(['id', 'createdAt', 'kind', 'cmd', 'params', 'name', 'git', 'env', '_dbx'])
export const PATCH_FILE = '_patch_uncommitted.diff'

export interface CreateExperimentOptions {
  /** Groups experiments; may hold "/". The folder is `<name>/<id>`, or `<id>` without a name. */
  name?: string | undefined
  /** @default the script's file name, as dbxlogger */
  kind?: string | undefined
  params?: Record<string, unknown> | undefined
  /** More top-level meta.json keys (not the reserved ones). */
  extraMeta?: Record<string, unknown> | undefined
  /**
   * Environment variables to record: true for all (dbxlogger's default), or a list of names.
   * Off by default because environments often hold credentials. @default false
   */
  env?: boolean | readonly string[] | undefined
  /** Record Git state and save uncommitted changes as the `_patch_` ExpFile. @default true */
  git?: boolean | undefined
  /** Where Git state and `pwd` are taken. @default process.cwd() */
  cwd?: string | undefined
  /** @default process.argv.slice(1) (script and arguments, like Python's sys.argv) */
  cmd?: readonly string[] | undefined
  /** @default a new 13-character id */
  id?: string | undefined
  /** @default now */
  createdAt?: Date | undefined
}

/** A logger bound to one stream and an event-name prefix (dbxlogger's context path). */
export interface Logger {
  /** Appends `{"event": "<prefix>/<event>", …values}`; NaN and ±Infinity are tagged. */
  log(event: string, values?: Record<string, unknown>): void
  /** A logger whose events are prefixed with `path` ("train/epoch/3"). */
  sub(path: string): Logger
}

/** An experiment being written: the handle the logger API returns. */
export interface ExperimentHandle extends Logger {
  readonly id: string
  readonly name: string | null
  /** Folder relative to the repository root. */
  readonly path: string
  readonly dir: string
  readonly meta: ExpMeta
  /** A logger for `<stream>.log.jsonl` (no "/" in stream). */
  logger(stream?: string): Logger
  /** Writes an ExpFile (recorded in files.json); returns the value to log to refer to it. */
  writeFile(name: string, data: string | Uint8Array): Promise<ExpFileRef>
  /** Copies a file in as an ExpFile. */
  copyFile(name: string, source: string): Promise<ExpFileRef>
  /** Stores a file as a RepoFile and links it into the experiment as `name`. */
  attach(source: string, name?: string, options?: AttachOptions): Promise<RepoFileRef>
  /** Closes the log files. */
  close(): void
}

function joinEvent(prefix: string, event: string): string {
  return prefix === '' ? event : event === '' ? prefix : `${prefix}/${event}`
}

function makeLogger(writer: () => LogWriter, prefix: string): Logger {
  return {
    log: (event, values) => writer().write(joinEvent(prefix, event), values),
    sub: (path) => makeLogger(writer, joinEvent(prefix, path.replace(/^\/+|\/+$/g, ''))),
  }
}

function pickEnv(env: CreateExperimentOptions['env']): Record<string, string> | undefined {
  if (!env) return undefined
  const names = env === true ? Object.keys(process.env) : env
  const out: Record<string, string> = {}
  for (const name of names) {
    const value = process.env[name]
    if (value !== undefined) out[name] = value
  }
  return out
}

/** dbxlogger's createdAt: UTC ISO 8601 with microseconds and "Z". */
export function formatCreatedAt(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z')
}

function buildMeta(id: string, cwd: string, options: CreateExperimentOptions): ExpMeta {
  for (const key of Object.keys(options.extraMeta ?? {})) {
    if (RESERVED.has(key)) throw new MlvcError('USAGE', `meta key "${key}" is reserved by dbx`)
  }
  const cmd = [...(options.cmd ?? process.argv.slice(1))]
  const meta: ExpMeta = {
    ...(options.extraMeta ?? {}),
    id,
    createdAt: formatCreatedAt(options.createdAt ?? new Date()),
    kind: options.kind ?? basename(cmd[0] ?? 'node'),
    params: (options.params ?? {}) as ExpMeta['params'],
    name: options.name ?? null,
    cmd,
    pwd: cwd,
    hostname: hostname(),
    script: cmd[0] === undefined ? '' : resolve(cwd, cmd[0]),
  }
  const env = pickEnv(options.env)
  if (env) meta.env = env
  return meta
}

async function makeFolder(repo: ExpRepo, name: string | undefined, id: string): Promise<string> {
  const rel = name ? `${checkRelPath(name, 'experiment name')}/${id}` : id
  const dir = joinInside(repo.root, rel, 'experiment folder')
  await mkdir(dirname(dir), { recursive: true }).catch((err) => {
    throw fsError(err, 'creating folder', dirname(dir))
  })
  try {
    await mkdir(dir)
  } catch (err) {
    if (isErrno(err, 'EEXIST')) {
      throw new MlvcError('USAGE', `experiment ${id} already exists at ${dir}`)
    }
    throw fsError(err, 'creating folder', dir)
  }
  return dir
}

/**
 * Creates an experiment: `<root>/<name>/<id>/meta.json` (written like dbxlogger writes it) and,
 * with uncommitted Git changes, the `_patch_uncommitted.diff` ExpFile. Returns a handle to log
 * into it; `log()` appends to log.jsonl and is safe from several processes at once.
 */
export async function createExperiment(
  repo: ExpRepo,
  options: CreateExperimentOptions = {},
): Promise<ExperimentHandle> {
  if (options.id !== undefined && !isSafeId(options.id)) {
    throw new MlvcError('USAGE', `"${options.id}" cannot be an experiment id`)
  }
  const id = options.id ?? newExperimentId()
  const cwd = resolve(options.cwd ?? process.cwd())
  const meta = buildMeta(id, cwd, options)
  const gitState = options.git === false ? undefined : await readGitState(cwd)
  const dir = await makeFolder(repo, options.name, id)
  const handle = experimentHandle(repo, dir, meta)
  if (gitState) {
    meta.git = { ...gitState.meta }
    if (gitState.diff.length > 0) {
      await handle.writeFile(PATCH_FILE, gitState.diff)
      meta.git.patch = PATCH_FILE
    }
  }
  await writeFileAtomic(join(dir, META_FILE), formatDbxJson(meta, 4), { fsync: false })
  return handle
}

/** Opens an existing experiment (by id or unique id prefix) to log more into it. */
export async function openExperiment(repo: ExpRepo, id: string): Promise<ExperimentHandle> {
  const { experiments } = await loadExperiments(repo)
  const exp = pickExperiment(experiments, id)
  return experimentHandle(repo, exp.dir, await readMeta(exp.dir))
}

function experimentHandle(repo: ExpRepo, dir: string, meta: ExpMeta): ExperimentHandle {
  const writers = new Map<string, LogWriter>()
  const writerFor = (stream: string) => () => {
    let writer = writers.get(stream)
    if (!writer) {
      writer = openLogWriter(join(dir, logFileName(stream)))
      writers.set(stream, writer)
    }
    return writer
  }
  const root = makeLogger(writerFor(''), '')
  const exp = { id: meta.id, dir }
  return {
    id: meta.id,
    name: meta.name,
    path: toPosixRel(repo.root, dir),
    dir,
    meta,
    log: root.log,
    sub: root.sub,
    logger(stream = '') {
      if (/[/\\]/.test(stream) || stream.startsWith('.')) {
        throw new MlvcError('USAGE', `log stream "${stream}": no slashes, no leading dot`)
      }
      const name = stream.endsWith('.log.jsonl') ? stream.slice(0, -'.log.jsonl'.length) : stream
      return makeLogger(writerFor(name), '')
    },
    writeFile: (name, data) => writeExpFile(exp, name, data),
    copyFile: (name, source) => copyExpFile(exp, name, source),
    attach: (source, name, options) =>
      attachFile(repo, exp, source, name ?? basename(source), options),
    close() {
      for (const writer of writers.values()) writer.close()
      writers.clear()
    },
  }
}
