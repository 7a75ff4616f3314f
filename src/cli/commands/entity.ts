import { join, relative, resolve, sep } from 'node:path'
import { MlvcError } from '../../core/index.ts'
import {
  addFiles,
  type CheckoutReport,
  checkoutEntity,
  commitEntity,
  type EntityKind,
  type EntityRef,
  type EntityRepo,
  type EntityStatus,
  entityStatus,
  fetchEntity,
  initEntity,
  type Mutability,
  parseSample,
  pushEntity,
  resetFiles,
} from '../../entities/index.ts'
import { chooseRemote, openRemote } from '../../remote/index.ts'
import type { Store } from '../../store/index.ts'
import type { CommandImpl } from '../action.ts'
import { repoContext, withRepoStore } from '../context.ts'
import { type CommandResult, formatBytes, type Io } from '../io.ts'
import { type GitContext, requireGit } from '../repo.ts'
import { quote } from '../text.ts'

/** The repository's entities: its work tree, their local state, the store, the remotes. */
export function entityRepo(ctx: GitContext, store: Store): EntityRepo {
  return {
    workTree: ctx.workTree,
    stateRoot: join(ctx.git.commonDir, 'mlvc-entities'),
    store,
    openRemote: (name) => openRemote(chooseRemote(ctx.config.tree, name), ctx.workTree),
  }
}

/** Runs `task` with the repository's entities (the store open meanwhile). */
export async function withEntities<T>(io: Io, task: (repo: EntityRepo) => Promise<T>): Promise<T> {
  const ctx = requireGit(await repoContext(io.cwd))
  return withRepoStore(ctx, (store) => task(entityRepo(ctx, store)))
}

/** Paths given on the command line (relative to the current folder) as paths in the entity folder. */
function entityRelative(
  io: Io,
  repo: EntityRepo,
  ref: EntityRef,
  given: readonly string[],
): string[] | undefined {
  if (given.length === 0) return undefined
  const dir = join(repo.workTree, ref.kind, ref.name)
  return given.map((p) => {
    const rel = relative(dir, resolve(io.cwd, p))
    if (rel.startsWith('..') || resolve(dir, rel) !== resolve(io.cwd, p))
      throw new MlvcError('USAGE', `${p} is not inside ${ref.kind} ${ref.name} (${dir})`)
    return rel.split(sep).join('/')
  })
}

const progress = (io: Io) => ({ signal: io.signal, onProgress: io.onProgress })

export function entityInit(
  kind: EntityKind,
): CommandImpl<[string], { category: string; remote?: string; mutability: string }> {
  return async (io, [name], options) => {
    const mutability = options.mutability as Mutability
    if (!['strict', 'flexible', 'mutable'].includes(mutability))
      throw new MlvcError(
        'USAGE',
        `--mutability ${options.mutability}: use strict, flexible or mutable`,
      )
    const categories = options.category.split('/').filter(Boolean)
    const spec = await withEntities(io, (repo) =>
      initEntity(repo, { kind, name }, { categories, remote: options.remote, mutability }),
    )
    return {
      data: spec,
      text: `created ${kind}/${name}/${name}.spec (${spec.mutability}); put files in ${kind}/${name}/, then mlvc ${kind} add ${name}`,
    }
  }
}

export function entityAdd(kind: EntityKind): CommandImpl<[string, string[]], object> {
  return async (io, [name, given]) => {
    const report = await withEntities(io, (repo) =>
      addFiles(
        repo,
        { kind, name },
        { paths: entityRelative(io, repo, { kind, name }, given), ...progress(io) },
      ),
    )
    const text = `${kind} ${name}: ${report.added} added, ${report.modified} modified, ${report.removed} removed, ${report.unchanged} unchanged; ${report.read} files read, ${formatBytes(report.newBytes)} new in the store; ${report.files} files (${formatBytes(report.bytes)}) staged`
    return { data: report, text }
  }
}

function statusText(status: EntityStatus): string {
  const lines = [
    `${status.kind} ${status.name}${status.tag ? ` at ${status.tag}` : ' (never committed)'}${status.partial ? ' (partial checkout)' : ''}`,
  ]
  if (status.pending)
    lines.push(`checkout of ${status.pending} was interrupted: run it again to finish it`)
  const section = (title: string, groups: Array<[string, string[]]>) => {
    const rows = groups.flatMap(([what, list]) =>
      list.map((p) => `  ${what.padEnd(10)} ${quote(p)}`),
    )
    if (rows.length === 0) return
    lines.push(title)
    for (const row of rows) lines.push(row)
  }
  section('staged for commit:', [
    ['added', status.staged.added],
    ['modified', status.staged.modified],
    ['deleted', status.staged.deleted],
  ])
  section('not staged:', [
    ['modified', status.unstaged.modified],
    ['deleted', status.unstaged.deleted],
  ])
  section('untracked:', [['new', status.unstaged.untracked]])
  if (lines.length === 1) lines.push('nothing to commit, folder clean')
  return lines.join('\n')
}

export function entityStatusCommand(kind: EntityKind): CommandImpl<[string], object> {
  return async (io, [name]) => {
    const status = await withEntities(io, async (repo) => entityStatus(repo, { kind, name }))
    return { data: status, text: statusText(status) }
  }
}

export function entityReset(kind: EntityKind): CommandImpl<[string, string[]], object> {
  return async (io, [name, given]) => {
    const result = await withEntities(io, (repo) =>
      resetFiles(repo, { kind, name }, entityRelative(io, repo, { kind, name }, given)),
    )
    return { data: result, text: `${kind} ${name}: ${result.unstaged} paths unstaged` }
  }
}

function wholeNumber(text: string | undefined, option: string): number | undefined {
  if (text === undefined) return undefined
  if (!/^[0-9]+$/.test(text)) throw new MlvcError('USAGE', `${option} ${text}: give a whole number`)
  return Number(text)
}

export function entityCommit(
  kind: EntityKind,
): CommandImpl<
  [string],
  { message?: string; version?: string; dataset?: string; labels?: string }
> {
  return async (io, [name], options) => {
    const report = await withEntities(io, (repo) =>
      commitEntity(
        repo,
        { kind, name },
        {
          message: options.message,
          version: wholeNumber(options.version, '--version'),
          dataset: options.dataset,
          labels: options.labels,
          ...progress(io),
        },
      ),
    )
    const text = `committed ${kind} ${name} version ${report.version}, tag ${report.tag}: ${report.files} files (${formatBytes(report.bytes)}); ${report.added} added, ${report.modified} modified, ${report.deleted} deleted`
    return { data: report, text } satisfies CommandResult
  }
}

interface CheckoutFlags {
  bare?: true
  sampleType?: string
  seed: string
  failLimit: string
  withLineage?: true
  force?: true
}

function checkoutText(report: CheckoutReport): string[] {
  const lines = [
    `${report.kind} ${report.name}: checked out ${report.tag}: ${report.selected} of ${report.total} files (${formatBytes(report.bytes)}); ${report.linked} linked, ${report.copied} copied, ${report.kept} already in place, ${report.removed} removed${report.fetched ? `, ${report.fetched} fetched` : ''}`,
  ]
  for (const f of report.failed) lines.push(`  failed: ${quote(f.path)}: ${f.message}`)
  for (const input of report.lineage) for (const line of checkoutText(input)) lines.push(line)
  return lines
}

export function entityCheckout(kind: EntityKind): CommandImpl<[string], CheckoutFlags> {
  return async (io, [target], options) => {
    const seed = wholeNumber(options.seed, '--seed') ?? 1
    const sample =
      options.sampleType === undefined
        ? undefined
        : { sample: parseSample(options.sampleType, seed), text: options.sampleType }
    const report = await withEntities(io, (repo) =>
      checkoutEntity(repo, kind, target, {
        bare: options.bare === true,
        sample,
        force: options.force === true,
        failLimit: wholeNumber(options.failLimit, '--fail-limit'),
        withLineage: options.withLineage === true,
        ...progress(io),
      }),
    )
    return {
      data: report,
      text: checkoutText(report).join('\n'),
      exitCode: report.failed.length > 0 ? 1 : 0,
    }
  }
}

export function entityPush(kind: EntityKind): CommandImpl<[string], object> {
  return async (io, [name]) => {
    const report = await withEntities(io, (repo) => pushEntity(repo, { kind, name }, progress(io)))
    const text = `${kind} ${name}: ${report.files} files of ${report.versions.length} versions on ${report.remote}; sent ${report.uploadedObjects} objects (${formatBytes(report.uploadedBytes)}) in ${report.packs} packs, ${report.present} were there already`
    return { data: report, text }
  }
}

export function entityFetch(kind: EntityKind): CommandImpl<[string], object> {
  return async (io, [target]) => {
    const report = await withEntities(io, (repo) => fetchEntity(repo, kind, target, progress(io)))
    const text = `${report.tag}: ${report.files} files; fetched ${report.fetchedFiles} from ${report.remote} (${report.fetchedObjects} objects, ${formatBytes(report.fetchedBytes)})`
    return { data: report, text }
  }
}
