import type { HashResult } from './hash.ts'
import type { HistoryRecord, IndexEntry } from './state.ts'
import type { ExpVersion } from './version.ts'

/** Fills a new local file `to` with some bytes and returns their hash. */
export type Fill = (to: string) => Promise<HashResult>

/** One experiment version's link to a RepoFile. */
export interface RepoFileUse {
  id: string
  /** The version that holds the link. */
  hash: string
  sha256: string
  /** `<path>/<name>`, for messages. */
  where: string
}

/** One end of a sync, as the sync engine sees it. */
export interface SideState {
  /** The experiments it holds now. */
  index: Map<string, IndexEntry>
  history: HistoryRecord[]
  /** Ids it cannot vouch for (unreadable, unsafe): sync leaves them alone on both ends. */
  broken: Map<string, string>
  /** Problems met while loading, for the report. */
  problems: Array<{ path: string; message: string }>
}

/**
 * A repository sync can read and write: a local folder (`localSide`) or objects on any Remote
 * (`remoteSide`). Every byte read from a side is hashed on the way; what a remote serves is checked
 * against the version it claims.
 */
export interface ExpSide {
  /** A path or URL, for messages and for `.dbx/missing`. */
  readonly label: string
  /** True for a folder on this machine (it knows its RepoFile links without fetching manifests). */
  readonly isLocal: boolean
  load(options: { dryRun: boolean }): Promise<SideState>
  version(entry: IndexEntry): Promise<ExpVersion>
  /** Copies one file of a version into the new local file `to`. */
  fetchFile(version: ExpVersion, name: string, to: string): Promise<HashResult>
  /**
   * Writes a whole version taken from elsewhere (`fill` copies each file), replacing `old` (which
   * may sit at another path). Returns the version as written.
   */
  putExperiment(
    version: ExpVersion,
    fill: (name: string) => Fill,
    old?: IndexEntry,
  ): Promise<ExpVersion>
  deleteExperiment(entry: IndexEntry): Promise<void>
  /** RepoFiles whose bytes it holds. */
  repoFiles(): Promise<Set<string>>
  fetchRepoFile(sha256: string, to: string): Promise<HashResult>
  putRepoFile(sha256: string, fill: Fill): Promise<void>
  /** RepoFile links of the experiments whose versions it knows (all of them for a local side). */
  referencedRepoFiles(): RepoFileUse[]
  /** Notes RepoFiles left behind (`--no-repofiles`) and where they can be fetched. */
  noteMissing(sha256s: ReadonlyMap<string, string>): Promise<void>
  /** Writes the index and the records added to history. */
  save(index: Map<string, IndexEntry>, added: readonly HistoryRecord[]): Promise<void>
  close(): Promise<void>
}
