import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { MlvcError, type ProgressOptions, writeFileAtomic } from '../core/index.ts'
import { commitPaths, tagCommit, tagExists } from './git-ops.ts'
import { gitignoreText } from './init.ts'
import { joinByPath } from './join.ts'
import { type EntityRef, type EntityRepo, entityPaths } from './layout.ts'
import { manifestWriter, readManifestFile } from './manifest.ts'
import { type EntitySpec, formatSpec, type Lineage, readSpec, tagOf } from './spec.ts'
import { readHead, stagedFile, withEntityLock, writeHead } from './state.ts'
import { entityTags, resolveVersion } from './tags.ts'

export interface CommitOptions extends ProgressOptions {
  message?: string | undefined
  /** The new version; the highest committed one plus one when absent. */
  version?: number | undefined
  /** Lineage: the dataset (labels, models) and labels (models) this version was made from. */
  dataset?: string | undefined
  labels?: string | undefined
}

export interface CommitReport {
  tag: string
  version: number
  commit: string
  files: number
  bytes: number
  added: number
  modified: number
  deleted: number
  lineage: Lineage | null
}

async function checkLineage(
  repo: EntityRepo,
  ref: EntityRef,
  options: CommitOptions,
  spec: EntitySpec,
): Promise<Lineage | undefined> {
  const lineage: Lineage = { ...spec.lineage }
  const inputs: Array<['dataset' | 'labels', string | undefined]> = [
    ['dataset', options.dataset],
    ['labels', options.labels],
  ]
  for (const [kind, target] of inputs) {
    if (target === undefined) continue
    if (kind === 'dataset' ? ref.kind === 'dataset' : ref.kind !== 'model')
      throw new MlvcError(
        'USAGE',
        `a ${ref.kind} cannot record --${kind} (models record datasets and labels; labels record datasets)`,
      )
    lineage[kind] = (await resolveVersion(repo.workTree, kind, target)).tag
  }
  return lineage.dataset || lineage.labels ? lineage : undefined
}

function countChanges(staged: string, committed: string) {
  const counts = { added: 0, modified: 0, deleted: 0 }
  for (const [s, c] of joinByPath(
    readManifestFile(staged, true),
    readManifestFile(committed, true),
  )) {
    if (s && !c) counts.added++
    else if (!s && c) counts.deleted++
    else if (s && c && (s.id !== c.id || s.mode !== c.mode)) counts.modified++
  }
  return counts
}

async function nextVersion(
  repo: EntityRepo,
  ref: EntityRef,
  spec: EntitySpec,
  wanted?: number,
): Promise<number> {
  let latest = spec.version
  for (const t of await entityTags(repo.workTree, ref.kind, ref.name))
    latest = Math.max(latest, t.version)
  const version = wanted ?? latest + 1
  if (!Number.isSafeInteger(version) || version <= latest)
    throw new MlvcError(
      'EXISTS',
      `${ref.kind} ${ref.name}: version ${version} is not above the latest, ${latest}`,
      {
        hint: `leave --version out (the next is ${latest + 1}), or give one above ${latest}`,
      },
    )
  const tag = tagOf(spec, version)
  if (await tagExists(repo.workTree, tag))
    throw new MlvcError('EXISTS', `tag ${tag} exists already`, { hint: 'give another --version' })
  return version
}

/**
 * Commits what is staged: writes MANIFEST, bumps the spec's version, commits the spec, the
 * manifest and the .gitignore (and nothing else) to Git and tags the commit
 * CATEGORIES__NAME__VERSION. Under the entity's lock, so two commits never interleave; if the
 * Git commit fails, the spec and MANIFEST are put back as they were; if only the tag fails, the
 * commit stands (work tree and HEAD agree) and the error says how to tag it.
 */
export async function commitEntity(
  repo: EntityRepo,
  ref: EntityRef,
  options: CommitOptions = {},
): Promise<CommitReport> {
  const paths = entityPaths(repo, ref)
  return withEntityLock(paths, ref, async () => {
    const spec = readSpec(paths.spec, ref)
    const lineage = await checkLineage(repo, ref, options, spec)
    const staged = stagedFile(paths)
    const changes = countChanges(staged, paths.manifest)
    const changed = changes.added + changes.modified + changes.deleted > 0
    if (!changed && spec.version > 0 && JSON.stringify(lineage) === JSON.stringify(spec.lineage))
      throw new MlvcError('USAGE', `${ref.kind} ${ref.name}: nothing staged to commit`, {
        hint: `mlvc ${ref.kind} add ${ref.name}`,
      })
    const version = await nextVersion(repo, ref, spec, options.version)
    const tag = tagOf(spec, version)
    if (options.signal?.aborted)
      throw new MlvcError(
        'INTERRUPTED',
        `commit of ${ref.kind} ${ref.name} interrupted; nothing was committed`,
      )
    // From here on, Ctrl-C waits: the commit completes or is undone, never left half-way.
    const specBefore = readFileSync(paths.spec, 'utf8')
    const backup = join(paths.state, 'MANIFEST.before')
    const hadManifest = existsSync(paths.manifest)
    let files = 0
    let bytes = 0
    let commit: string | undefined
    try {
      if (staged !== paths.manifest) {
        if (hadManifest) renameSync(paths.manifest, backup)
        const out = manifestWriter(paths.manifest)
        try {
          for (const entry of readManifestFile(staged)) out.write(entry)
          out.finish()
        } catch (err) {
          out.abort()
          throw err
        }
        files = out.count
        bytes = out.bytes
      } else {
        for (const entry of readManifestFile(paths.manifest, true)) {
          files++
          bytes += entry.size
        }
        if (!hadManifest) await writeFile(paths.manifest, 'mlvc-manifest 1\n')
      }
      await writeFileAtomic(paths.spec, formatSpec({ ...spec, version, lineage }))
      await writeFileAtomic(paths.gitignore, gitignoreText(ref))
      const message = options.message ?? `${ref.kind} ${ref.name} version ${version}`
      const rel = [paths.spec, paths.manifest, paths.gitignore].map((p) =>
        relative(repo.workTree, p),
      )
      commit = await commitPaths(repo.workTree, rel, message)
      rmSync(paths.index, { force: true })
      rmSync(backup, { force: true })
      await writeHead(paths, { tag, partial: readHead(paths).partial })
      await tagCommit(repo.workTree, tag, commit)
      return { tag, version, commit, files, bytes, ...changes, lineage: lineage ?? null }
    } catch (err) {
      if (commit !== undefined) {
        // Git has the new version: the work tree keeps it too. Only the tag is missing.
        const why = err instanceof Error ? err.message : String(err)
        throw new MlvcError(
          'GIT',
          `${ref.kind} ${ref.name} version ${version} is committed (${commit.slice(0, 12)}) but its tag ${tag} could not be made: ${why}`,
          { cause: err, hint: `once the cause is fixed: git tag ${tag} ${commit}` },
        )
      }
      await writeFileAtomic(paths.spec, specBefore)
      if (existsSync(backup)) renameSync(backup, paths.manifest)
      else if (!hadManifest) rmSync(paths.manifest, { force: true })
      throw err
    }
  })
}
