import { join, relative, resolve, sep } from 'node:path'
import { MlvcError } from '../../core/index.ts'
import {
  addFiles,
  type CheckoutReport,
  checkoutEntity,
  commitEntity,
  diffVersions,
  type EntityKind,
  type EntityRef,
  type EntityRepo,
  type EntityStatus,
  entityLog,
  entityRoots,
  entityStatus,
  entityTags,
  exportVersion,
  fetchEntity,
  fsckEntities,
  importEntity,
  initEntity,
  type LineageNode,
  lineageOf,
  listEntities,
  type Mutability,
  parseSample,
  pruneCache,
  pushEntity,
  resetFiles,
  showVersion,
} from '../../entities/index.ts'
import { gitRoots } from '../../git/index.ts'
import { chooseRemote, openRemote } from '../../remote/index.ts'
import { gcStore, type Store } from '../../store/index.ts'
import type { CommandImpl } from '../action.ts'
import { repoContext, withRepoStore } from '../context.ts'
import { type CommandResult, formatBytes, type Io } from '../io.ts'
import { type GitContext, requireGit } from '../repo.ts'
import { quote } from '../text.ts'

/** The repository's entities: its work tree, their local state, the store, the remotes. */
export function entityRepo(ctx: GitContext, store: Store): EntityRepo {
  return {
    workTree: ctx.workTree,
    // Per work tree (a linked worktree has its own folders, index and checkout); same file system.
    stateRoot: join(ctx.git.gitDir, 'mlvc-entities'),
    store,
    openRemote: (name) => openRemote(chooseRemote(ctx.config, name), ctx.workTree),
  }
}

/**
 * Stands in for the store in commands that only read Git and the work tree (status, list, show,
 * log, diff, lineage): opening the store loads every pack index, which status at 100,000 files
 * must not pay for. Any use is a bug.
 */
const NO_STORE = new Proxy({} as Store, {
  get(_target, key) {
    throw new MlvcError(
      'INTERNAL',
      `the store was not opened for this command (store.${String(key)})`,
    )
  },
})

/** Runs `task` with the repository's entities, without opening the store (see NO_STORE). */
async function withEntityMetadata<T>(io: Io, task: (repo: EntityRepo) => Promise<T>): Promise<T> {
  return task(entityRepo(requireGit(await repoContext(io.cwd)), NO_STORE))
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
    const status = await withEntityMetadata(io, async (repo) => entityStatus(repo, { kind, name }))
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

export function entityList(kind: EntityKind): CommandImpl<[], object> {
  return async (io) => {
    const rows = await withEntityMetadata(io, async (repo) => listEntities(repo, kind))
    const text = rows
      .map(
        (r) =>
          `${r.name.padEnd(24)} v${String(r.version).padEnd(5)} ${r.mutability.padEnd(9)} ${(r.categories.join('/') || '-').padEnd(20)} ${r.checkedOut ?? '(not checked out)'}`,
      )
      .join('\n')
    return { data: rows, text: text || `no ${kind} here (mlvc ${kind} init NAME)` }
  }
}

export function entityShow(kind: EntityKind): CommandImpl<[string], object> {
  return async (io, [target]) => {
    const info = await withEntityMetadata(io, (repo) => showVersion(repo, kind, target))
    const lineage = info.spec.lineage
    const lines = [
      `${info.tag}: ${kind} ${info.name} version ${info.version}, ${info.files} files (${formatBytes(info.bytes)})`,
      `categories: ${info.spec.categories.join(', ') || '-'}; mutability: ${info.spec.mutability}; remote: ${info.spec.remote ?? '(default)'}`,
    ]
    if (lineage?.dataset) lines.push(`dataset: ${lineage.dataset}`)
    if (lineage?.labels) lines.push(`labels: ${lineage.labels}`)
    return { data: info, text: lines.join('\n') }
  }
}

export function entityLogCommand(kind: EntityKind): CommandImpl<[string], object> {
  return async (io, [name]) => {
    const log = await withEntityMetadata(io, (repo) => entityLog(repo, { kind, name }))
    const text = log
      .map(
        (e) =>
          `${e.commit.slice(0, 12)} ${e.date.slice(0, 19)} ${e.tags.join(', ').padEnd(24)} ${e.message}`,
      )
      .join('\n')
    return { data: log, text: text || `no commits of ${kind} ${name}` }
  }
}

export function entityTagList(kind: EntityKind): CommandImpl<[string | undefined], object> {
  return async (io, [name]) => {
    const tags = await withEntityMetadata(io, (repo) => entityTags(repo.workTree, kind, name))
    return { data: tags, text: tags.map((t) => t.tag).join('\n') }
  }
}

export function entityDiff(kind: EntityKind): CommandImpl<[string, string], object> {
  return async (io, [from, to]) => {
    const diff = await withEntityMetadata(io, (repo) => diffVersions(repo, kind, from, to))
    const size = (n: number | null) => (n === null ? '-' : formatBytes(n))
    const lines = [
      ...diff.added.map((c) => `+ ${quote(c.path)} (${size(c.after)})`),
      ...diff.removed.map((c) => `- ${quote(c.path)} (${size(c.before)})`),
      ...diff.changed.map((c) => `M ${quote(c.path)} (${size(c.before)} → ${size(c.after)})`),
      `${diff.from} → ${diff.to}: ${diff.added.length} added, ${diff.removed.length} removed, ${diff.changed.length} changed; ${formatBytes(diff.newBytes)} of new content`,
    ]
    return { data: diff, text: lines.join('\n') }
  }
}

function lineageLines(node: LineageNode, depth: number): string[] {
  const lines = [`${'  '.repeat(depth)}${depth ? '← ' : ''}${node.kind} ${node.tag}`]
  for (const input of node.inputs)
    for (const line of lineageLines(input, depth + 1)) lines.push(line)
  return lines
}

export function entityLineage(kind: EntityKind): CommandImpl<[string], object> {
  return async (io, [target]) => {
    const graph = await withEntityMetadata(io, (repo) => lineageOf(repo, kind, target))
    return { data: graph, text: lineageLines(graph, 0).join('\n') }
  }
}

export function entityFsck(kind: EntityKind): CommandImpl<[], object> {
  return async (io) => {
    const report = await withEntities(io, (repo) => fsckEntities(repo, kind, progress(io)))
    const lines = report.issues.map((i) => `${i.where}: ${i.problem}`)
    lines.push(
      `${report.entities} ${kind} entities, ${report.files} files, ${report.cacheFiles} cached copies checked; ${report.issues.length} problems${report.repairedCache ? `; ${report.repairedCache} damaged cached copies removed` : ''}`,
    )
    return { data: report, text: lines.join('\n'), exitCode: report.issues.length > 0 ? 1 : 0 }
  }
}

export function entityGc(_kind: EntityKind): CommandImpl<[], { dryRun?: true }> {
  return async (io, _operands, options) => {
    const dryRun = options.dryRun === true
    const result = await withEntities(io, async (repo) => {
      const cache = pruneCache(repo, dryRun)
      const roots = await gitRoots(repo.workTree)
      for (const id of await entityRoots(repo)) roots.push(id)
      const store = await gcStore(repo.store, { dryRun, roots })
      return { cache, store }
    })
    const verb = dryRun ? 'would remove' : 'removed'
    const text = `${verb} ${result.cache.files} unused cached copies (${formatBytes(result.cache.bytes)}) and ${result.store.objectsRemoved} unreferenced objects from the store (${formatBytes(result.store.bytesFreed)})`
    return { data: result, text }
  }
}

export function entityExport(
  kind: EntityKind,
): CommandImpl<[string, string], { endpoint?: string }> {
  return async (io, [target, dest], options) => {
    const out = /^s3:\/\//i.test(dest) ? dest : resolve(io.cwd, dest)
    const report = await withEntities(io, (repo) =>
      exportVersion(repo, kind, target, out, { endpoint: options.endpoint, ...progress(io) }),
    )
    return {
      data: report,
      text: `exported ${report.tag}: ${report.files} files (${formatBytes(report.bytes)}) to ${report.dest}`,
    }
  }
}

export function entityImport(
  kind: EntityKind,
): CommandImpl<[string, string], { endpoint?: string }> {
  return async (io, [source, name], options) => {
    const from = /^s3:\/\//i.test(source) ? source : resolve(io.cwd, source)
    const report = await withEntities(io, (repo) =>
      importEntity(repo, kind, from, name, { endpoint: options.endpoint, ...progress(io) }),
    )
    return {
      data: report,
      text: `imported ${report.copied} files from ${report.source} into ${kind} ${name}; ${report.files} files (${formatBytes(report.bytes)}) staged: mlvc ${kind} commit ${name}`,
    }
  }
}
