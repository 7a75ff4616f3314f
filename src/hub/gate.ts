import { MlvcError } from '../core/index.ts'
import {
  findStubs,
  historyBlobs,
  MAX_STUB_BYTES,
  objectInfo,
  type PathBlob,
  type RevSelection,
} from '../git/index.ts'
import { MARKER_KEY, type Remote } from '../remote/index.ts'
import { objectIndex } from './pack-check.ts'

const ZERO = /^0+$/

/** Stub candidates read at once (their bytes are held in memory together). */
const BATCH_BYTES = 64 * 1024 * 1024

export interface GateResult {
  /** Stubs in the pushed commits. */
  stubs: number
  /** Paths whose mlvc objects the hub lacks, with the missing id. */
  missing: Array<{ path: string; id: string }>
  /** The repository's objects are encrypted: the hub cannot read their ids, so nothing was checked. */
  encrypted: boolean
}

/** The new commits of a pre-receive hook's input ("<old> <new> <ref>" per line; deletions skipped). */
export function pushedCommits(input: string): string[] {
  const revs: string[] = []
  for (const line of input.split('\n')) {
    const [, next] = line.trim().split(' ')
    if (next && !ZERO.test(next)) revs.push(next)
  }
  return [...new Set(revs)]
}

/** Blobs of at most MAX_STUB_BYTES in groups of about BATCH_BYTES. */
async function candidateBatches(gitDir: string, blobs: readonly PathBlob[]): Promise<PathBlob[][]> {
  const info = await objectInfo(gitDir, [...new Set(blobs.map((b) => b.sha))])
  const batches: PathBlob[][] = [[]]
  let bytes = 0
  for (const blob of blobs) {
    const size = info.get(blob.sha)?.size ?? Number.POSITIVE_INFINITY
    if (size > MAX_STUB_BYTES) continue
    if (bytes + size > BATCH_BYTES && (batches.at(-1)?.length ?? 0) > 0) {
      batches.push([])
      bytes = 0
    }
    batches.at(-1)?.push(blob)
    bytes += size
  }
  return batches
}

/**
 * The push gate, run by Git's pre-receive hook in the bare repository (the pushed objects are in
 * its quarantine, which the hook's git commands see): finds the stubs that the pushed commits add
 * (the scan of pre-push, over every blob small enough to be a stub: a bare repository has no work
 * tree whose attributes would say which paths are tracked — the hook's environment makes every
 * path count as tracked) and checks that the hub holds each stub's file manifest. The manifest is
 * what `mlvc push` uploads last for a file, in a pack the hub verified on receipt.
 */
export async function checkPushedStubs(
  gitDir: string,
  input: string,
  remote: Remote,
): Promise<GateResult> {
  return checkStubs(gitDir, { revs: pushedCommits(input), options: ['--not', '--all'] }, remote)
}

/** Checks the stubs in the history of `selection` (the hub's fsck: every ref's). */
export async function checkStubs(
  gitDir: string,
  selection: RevSelection,
  remote: Remote,
): Promise<GateResult> {
  const result: GateResult = { stubs: 0, missing: [], encrypted: false }
  if ((selection.revs ?? []).length === 0 && (selection.options ?? []).length === 0) return result
  if (await remote.head(MARKER_KEY)) return { ...result, encrypted: true }
  const blobs = await historyBlobs(gitDir, selection)
  const held = await objectIndex()(remote)
  for (const batch of await candidateBatches(gitDir, blobs)) {
    if (batch.length === 0) continue
    const { stubs } = await findStubs(gitDir, batch)
    for (const { path, stub } of stubs) {
      result.stubs++
      if (!held.has(stub.id)) result.missing.push({ path, id: stub.id })
    }
  }
  return result
}

/** The refusal git shows the pusher ("remote: …" lines), naming the files and what to run. */
export function refusal(missing: GateResult['missing'], repo: string): MlvcError {
  const paths = [...new Set(missing.map((m) => m.path))]
  const shown =
    paths.slice(0, 10).join(', ') + (paths.length > 10 ? ` and ${paths.length - 10} more` : '')
  return new MlvcError(
    'MISSING_OBJECT',
    `push refused: the hub lacks the mlvc data of ${shown} (${repo})`,
    {
      hint: 'run `mlvc push` to upload it (git push runs it when mlvc install set up the hook), then push again',
    },
  )
}
