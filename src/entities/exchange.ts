import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { MlvcError, type ProgressOptions, uniqueName } from '../core/index.ts'
import { openRemote, type Remote } from '../remote/index.ts'
import { parseId } from '../store/index.ts'
import { type AddReport, addFiles } from './add.ts'
import { fetchMissing } from './checkout.ts'
import { writeContent } from './content.ts'
import { showFile } from './git-ops.ts'
import { initEntity } from './init.ts'
import { type EntityKind, type EntityRepo, entityPaths, metadataFiles } from './layout.ts'
import { pathProblem } from './manifest.ts'
import { ensureParents } from './place.ts'
import { parseSpec } from './spec.ts'
import { resolveVersion, specAt } from './tags.ts'
import { loopTurner } from './turn.ts'
import { withVersionManifest } from './versions.ts'

export interface ExchangeOptions extends ProgressOptions {
  /** For s3:// URLs: a custom endpoint (MinIO, Ceph RGW). */
  endpoint?: string | undefined
}

function isS3(url: string): boolean {
  return /^s3:\/\//i.test(url)
}

function bucketOf(url: string, endpoint: string | undefined, base: string): Remote {
  return openRemote({ name: url, url, endpoint, pathStyle: endpoint ? true : undefined }, base)
}

export interface ExportReport {
  tag: string
  dest: string
  files: number
  bytes: number
}

/**
 * Writes the files of a version to a new folder, or to s3://BUCKET/PREFIX (one object per file,
 * keyed by its path), fetching what the store lacks first. Files already at DEST are not replaced.
 */
export async function exportVersion(
  repo: EntityRepo,
  kind: EntityKind,
  target: string,
  dest: string,
  options: ExchangeOptions = {},
): Promise<ExportReport> {
  const version = await resolveVersion(repo.workTree, kind, target)
  const spec = parseSpec(
    await showFile(repo.workTree, version.tag, specAt(version)),
    specAt(version),
    version,
  )
  const report: ExportReport = { tag: version.tag, dest, files: 0, bytes: 0 }
  const bucket = isS3(dest) ? bucketOf(dest, options.endpoint, repo.workTree) : undefined
  const tmpDir = join(repo.stateRoot, 'tmp')
  mkdirSync(tmpDir, { recursive: true })
  if (!bucket) mkdirSync(dest, { recursive: true })
  await withVersionManifest(repo, version, async (entries) => {
    const missing: string[] = []
    let total = 0
    for (const e of entries()) {
      total++
      if (!repo.store.lookup(parseId(e.id).digest)) missing.push(e.id)
    }
    await fetchMissing(repo, spec, missing, options)
    const made = new Set<string>()
    const turn = loopTurner()
    for (const e of entries()) {
      await turn()
      if (options.signal?.aborted)
        throw new MlvcError(
          'INTERRUPTED',
          `export of ${version.tag} interrupted; what was written stays`,
        )
      if (bucket) {
        const tmp = join(tmpDir, uniqueName('export'))
        try {
          await writeContent(repo.store, e.id, tmp, { replace: 'none', tmpDir })
          await bucket.upload(tmp, e.path, { signal: options.signal })
        } finally {
          rmSync(tmp, { force: true })
        }
      } else {
        ensureParents(dest, e.path, made)
        await writeContent(repo.store, e.id, join(dest, e.path), { replace: 'none', tmpDir })
      }
      report.files++
      report.bytes += e.size
      options.onProgress?.({
        type: 'files',
        phase: `exporting ${version.tag}`,
        done: report.files,
        total,
      })
    }
  })
  return report
}

function* folderFiles(dir: string, prefix = ''): Generator<string> {
  for (const e of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const path = prefix ? `${prefix}/${e.name}` : e.name
    if (e.isDirectory()) yield* folderFiles(dir, path)
    else if (e.isFile()) yield path
  }
}

export interface ImportReport extends AddReport {
  source: string
  copied: number
}

/**
 * Creates (or adds to) entity NAME from a folder or s3://BUCKET/PREFIX: copies the files into
 * the entity folder and stages them (commit is up to the user). Files there already are kept.
 */
export async function importEntity(
  repo: EntityRepo,
  kind: EntityKind,
  source: string,
  name: string,
  options: ExchangeOptions = {},
): Promise<ImportReport> {
  const ref = { kind, name }
  const paths = entityPaths(repo, ref)
  if (!existsSync(paths.spec)) await initEntity(repo, ref)
  let copied = 0
  const made = new Set<string>()
  const turn = loopTurner()
  const bucket = isS3(source) ? bucketOf(source, options.endpoint, repo.workTree) : undefined
  const keys: string[] = []
  if (bucket)
    for await (const info of bucket.list('', { signal: options.signal })) keys.push(info.key)
  else if (!existsSync(source)) throw new MlvcError('NOT_FOUND', `${source} does not exist`)
  for (const path of bucket ? keys.sort() : folderFiles(source)) {
    await turn()
    if (options.signal?.aborted)
      throw new MlvcError(
        'INTERRUPTED',
        `import into ${kind} ${name} interrupted; the files copied so far stay, unstaged`,
      )
    const problem = pathProblem(path)
    if (problem)
      throw new MlvcError(
        'UNSAFE_PATH',
        `${source}: ${JSON.stringify(path)} ${problem}; nothing more was imported`,
      )
    const target = join(paths.dir, path)
    if (metadataFiles(ref).has(path) || existsSync(target)) continue
    ensureParents(paths.dir, path, made)
    if (bucket) await bucket.download(path, target, { signal: options.signal })
    else copyFileSync(join(source, path), target)
    copied++
    options.onProgress?.({ type: 'files', phase: `importing ${source}`, done: copied, total: 0 })
  }
  const added = await addFiles(repo, ref, options)
  return { ...added, source, copied }
}
