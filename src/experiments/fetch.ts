import { hashFile, isMlvcError, type ProgressOptions } from '../core/index.ts'
import { materialize, type Store } from '../store/index.ts'
import { readStoreIds } from './attach.ts'
import { clearMissing, readMissing } from './missing.ts'
import type { ExpRepo } from './repo.ts'
import { hasRepoFile, putRepoFile } from './repofiles.ts'
import { type Experiment, loadExperiments, pickExperiment } from './scan.ts'
import { type ExpSide, openSide } from './sync/index.ts'
import { readLinks } from './version.ts'

export interface FetchRepoFilesOptions extends ProgressOptions {
  /** Only RepoFiles these experiments link to (ids or unique prefixes). @default all */
  ids?: readonly string[] | undefined
  /** Where to look, in order, after the store. @default the places noted in .dbx/missing */
  sources?: ReadonlyArray<string | ExpSide> | undefined
  /** An mlvc store holding RepoFiles (see `.dbx/store-ids`); tried first. */
  store?: Store | undefined
}

export interface FetchRepoFilesReport {
  fetched: Array<{ sha256: string; where: string; from: string }>
  failed: Array<{ sha256: string; where: string; message: string }>
  /** Links whose RepoFile was already here. */
  present: number
}

async function wantedRepoFiles(
  repo: ExpRepo,
  exps: readonly Experiment[],
): Promise<{ wanted: Map<string, string>; present: number }> {
  const wanted = new Map<string, string>()
  let present = 0
  for (const exp of exps) {
    for (const link of await readLinks(repo, exp.dir)) {
      if (link.sha256 === undefined || wanted.has(link.sha256)) continue
      if (await hasRepoFile(repo, link.sha256)) present++
      else wanted.set(link.sha256, `${exp.path}/${link.name}`)
    }
  }
  return { wanted, present }
}

async function fromStore(
  repo: ExpRepo,
  store: Store,
  id: string,
  sha256: string,
): Promise<boolean> {
  if (!(await store.has(id))) return false
  await putRepoFile(
    repo,
    async (to) => {
      await materialize(store, id, to)
      return hashFile(to)
    },
    sha256,
  )
  return true
}

/**
 * Gets the bytes of RepoFiles that experiments link to but this machine lacks (left behind by
 * `sync --no-repofiles`, or a Git clone): from the mlvc store, then from each source that has them.
 * Every RepoFile is verified against its name before it is kept.
 */
export async function fetchRepoFiles(
  repo: ExpRepo,
  options: FetchRepoFilesOptions = {},
): Promise<FetchRepoFilesReport> {
  const { experiments } = await loadExperiments(repo)
  const chosen = options.ids
    ? options.ids.map((id) => pickExperiment(experiments, id))
    : experiments
  const { wanted, present } = await wantedRepoFiles(repo, chosen)
  const report: FetchRepoFilesReport = { fetched: [], failed: [], present }
  const storeIds = options.store ? await readStoreIds(repo) : new Map<string, string>()
  const missing = await readMissing(repo)
  const opened = new Map<string, { side: ExpSide; has: Set<string> } | Error>()
  async function source(spec: string | ExpSide) {
    const key = typeof spec === 'string' ? spec : spec.label
    if (!opened.has(key)) {
      try {
        const side = typeof spec === 'string' ? await openSide(spec, { roots: repo.roots }) : spec
        opened.set(key, { side, has: await side.repoFiles() })
      } catch (err) {
        opened.set(key, err as Error)
      }
    }
    return opened.get(key) as { side: ExpSide; has: Set<string> } | Error
  }
  let done = 0
  for (const [sha256, where] of wanted) {
    options.onProgress?.({
      type: 'objects',
      phase: 'fetching RepoFiles',
      done: done++,
      total: wanted.size,
    })
    if (options.signal?.aborted) break
    const errors: string[] = []
    const storeId = storeIds.get(sha256)
    if (options.store && storeId) {
      try {
        if (await fromStore(repo, options.store, storeId, sha256)) {
          report.fetched.push({ sha256, where, from: 'mlvc store' })
          continue
        }
      } catch (err) {
        errors.push(`mlvc store: ${(err as Error).message}`)
      }
    }
    let got = false
    for (const spec of options.sources ?? missing.get(sha256) ?? []) {
      const s = await source(spec)
      if (s instanceof Error) {
        errors.push(s.message)
        continue
      }
      if (!s.has.has(sha256)) continue
      try {
        await putRepoFile(repo, (to) => s.side.fetchRepoFile(sha256, to), sha256)
        report.fetched.push({ sha256, where, from: s.side.label })
        got = true
        break
      } catch (err) {
        if (!isMlvcError(err, 'NOT_FOUND'))
          errors.push(`${s.side.label}: ${(err as Error).message}`)
      }
    }
    if (!got) {
      report.failed.push({ sha256, where, message: errors[0] ?? 'no known source holds it' })
    }
  }
  await clearMissing(
    repo,
    report.fetched.map((f) => f.sha256),
  )
  return report
}
