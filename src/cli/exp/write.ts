import { resolve } from 'node:path'
import { MlvcError } from '../../core/index.ts'
import {
  createExperiment,
  keepAttachment,
  loadExperiments,
  openExperiment,
  parseDbxJson,
  pickExperiment,
} from '../../experiments/index.ts'
import type { CommandResult, Io } from '../io.ts'
import { quote } from '../text.ts'
import { openExpContext, type RepoOption, withOptionalStore } from './context.ts'

/** `key=value` pairs; values parse as JSON when they can (numbers, true, lists), else stay text. */
export function parsePairs(pairs: readonly string[], what: string): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new MlvcError('USAGE', `${what} "${pair}": expected KEY=VALUE`)
    const raw = pair.slice(eq + 1)
    let value: unknown = raw
    try {
      value = parseDbxJson(raw)
    } catch {}
    out[pair.slice(0, eq)] = value
  }
  return out
}

export interface CreateCliOptions extends RepoOption {
  name?: string | undefined
  kind?: string | undefined
  param?: string[] | undefined
  git?: boolean | undefined
}

/** Creates an experiment from a shell script; prints its id. */
export async function expCreate(
  io: Io,
  _operands: [],
  options: CreateCliOptions,
): Promise<CommandResult> {
  const { repo } = await openExpContext(io, options)
  const exp = await createExperiment(repo, {
    name: options.name,
    kind: options.kind ?? 'shell',
    params: parsePairs(options.param ?? [], '--param'),
    git: options.git !== false,
    cwd: io.cwd,
    cmd: process.argv.slice(1),
  })
  exp.close()
  return { data: { id: exp.id, path: exp.path, dir: exp.dir }, text: exp.id }
}

export interface LogCliOptions extends RepoOption {
  stream?: string | undefined
}

/** Appends one event to an experiment's log (safe alongside other writers). */
export async function expLog(
  io: Io,
  [id, event, pairs]: [string, string, string[]],
  options: LogCliOptions,
): Promise<CommandResult> {
  const { repo } = await openExpContext(io, options)
  const exp = await openExperiment(repo, id)
  try {
    exp.logger(options.stream ?? '').log(event, parsePairs(pairs, 'value'))
  } finally {
    exp.close()
  }
  return { data: { id: exp.id, event }, text: '' }
}

export interface AttachCliOptions extends RepoOption {
  name?: string | undefined
}

/**
 * Stores FILE as a RepoFile linked into experiment ID (or, with ID "-", keeps it without one, in
 * .dbx/attachments). Inside Git it also goes into the mlvc store.
 */
export async function expAttach(
  io: Io,
  [id, file]: [string, string],
  options: AttachCliOptions,
): Promise<CommandResult> {
  const ctx = await openExpContext(io, options)
  const source = resolve(io.cwd, file)
  const name = options.name ?? file.split(/[\\/]/).at(-1) ?? file
  return withOptionalStore(ctx, async (store) => {
    if (id === '-') {
      const kept = await keepAttachment(ctx.repo, source, name, { store })
      return { data: { ...kept, name }, text: `kept ${quote(name)} as SHA256-${kept.sha256}` }
    }
    const exp = pickExperiment((await loadExperiments(ctx.repo)).experiments, id)
    const handle = await openExperiment(ctx.repo, exp.id)
    const ref = await handle.attach(source, name, { store })
    return { data: ref, text: `attached ${quote(name)} to ${exp.id} as SHA256-${ref.sha256}` }
  })
}
