import type { End } from './history.ts'
import type { SyncOptions, SyncReport } from './index.ts'
import { allowed } from './plan.ts'

/** The RepoFiles `x` should hold: its own links, and for a remote the links of versions it shares. */
function needed(x: End, y: End): Map<string, string> {
  const out = new Map<string, string>()
  const uses = x.side.isLocal
    ? x.side.referencedRepoFiles()
    : y.side.referencedRepoFiles().filter((u) => x.state.index.get(u.id)?.hash === u.hash)
  for (const use of uses) out.set(use.sha256, use.where)
  return out
}

/**
 * Copies the RepoFiles each end needs and the other holds (or, with `repofiles: false`, notes where
 * they are). Runs after the experiments, so it sees the versions just written.
 */
export async function syncRepoFiles(
  ends: { a: End; b: End },
  report: SyncReport,
  options: SyncOptions,
): Promise<void> {
  const sets = { a: await ends.a.side.repoFiles(), b: await ends.b.side.repoFiles() }
  for (const [x, y] of [
    [ends.a, ends.b],
    [ends.b, ends.a],
  ] as const) {
    if (!allowed(x.name, options.direction)) continue
    const mine = sets[x.name]
    const theirs = sets[y.name]
    const left = new Map<string, string>()
    const wanted = [...needed(x, y)].filter(([sha256]) => !mine.has(sha256))
    let done = 0
    for (const [sha256, where] of wanted) {
      options.onProgress?.({
        type: 'objects',
        phase: 'copying RepoFiles',
        done: done++,
        total: wanted.length,
      })
      if (!theirs.has(sha256)) {
        if (x.side.isLocal) report.repofiles.unavailable.push(`${where} (SHA256-${sha256})`)
        continue
      }
      if (options.repofiles === false || options.dryRun) {
        left.set(sha256, y.side.label)
        report.repofiles.leftBehind++
        continue
      }
      if (options.signal?.aborted) break
      try {
        let bytes = 0
        await x.side.putRepoFile(sha256, async (to) => {
          const result = await y.side.fetchRepoFile(sha256, to)
          bytes = result.size
          return result
        })
        mine.add(sha256)
        report.repofiles.copied++
        report.repofiles.bytes += bytes
      } catch (err) {
        report.errors.push({ id: `SHA256-${sha256}`, message: (err as Error).message })
      }
    }
    if (!options.dryRun && left.size > 0) await x.side.noteMissing(left)
  }
}
