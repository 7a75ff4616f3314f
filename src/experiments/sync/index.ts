/**
 * Sync of experiment repositories (dbx's `.dbx/index` and `.dbx/history`): two sides, a local
 * folder or objects on any Remote, are compared by their histories and each experiment is copied,
 * replaced, deleted, or reported as a conflict. This file declares the vocabulary (sides, records,
 * decisions, the report) and is the only way into sync/ from the rest of experiments/.
 *
 *   state.ts        the index and history formats
 *   local-state.ts  a folder's index and history brought up to date with its experiment folders
 *   local-side.ts   a folder as a side; remote-side.ts a Remote as a side; open-side.ts picks one
 *   plan.ts         what to do with one experiment, from the two histories alone
 *   history.ts      the history records each end is to be given
 *   sync.ts         the engine: plan, apply, save both ends
 *   repofiles.ts    the RepoFiles each end needs, copied after the experiments
 */
import type { FileHash, ProgressOptions } from '../../core/index.ts'
import type { ExpVersion } from '../version.ts'

/**
 * `.dbx/index`: one line per experiment, `<id> <hash> <path>`, sorted by path. The path comes last
 * because it may hold spaces.
 */
export interface IndexEntry {
  id: string
  hash: string
  path: string
}

/**
 * `.dbx/history`: JSON lines, oldest first. `version`: the experiment was seen with content `hash`
 * at `path`; `delete`: it was deleted, its last version being `hash`.
 */
export interface HistoryRecord {
  op: 'version' | 'delete'
  id: string
  hash: string
  path: string
  time: string
  host: string
}

/** Fills a new local file `to` with some bytes and returns their hash. */
export type Fill = (to: string) => Promise<FileHash>

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
  fetchFile(version: ExpVersion, name: string, to: string): Promise<FileHash>
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
  fetchRepoFile(sha256: string, to: string): Promise<FileHash>
  putRepoFile(sha256: string, fill: Fill): Promise<void>
  /** RepoFile links of the experiments whose versions it knows (all of them for a local side). */
  referencedRepoFiles(): RepoFileUse[]
  /** Notes RepoFiles left behind (`--no-repofiles`) and where they can be fetched. */
  noteMissing(sha256s: ReadonlyMap<string, string>): Promise<void>
  /** Writes the index and the records added to history. */
  save(index: Map<string, IndexEntry>, added: readonly HistoryRecord[]): Promise<void>
  close(): Promise<void>
}

/** The two ends of a sync. */
export type SideName = 'a' | 'b'

/** Which ends a sync may change: both, only B (a push), only A (a pull). */
export type Direction = 'both' | 'a-to-b' | 'b-to-a' | undefined

/** What sync does with one experiment id. */
export type Decision =
  | { kind: 'same' }
  | { kind: 'copy'; from: SideName; replace: boolean }
  | { kind: 'delete'; on: SideName }
  | { kind: 'conflict'; reason: string }
  | { kind: 'skip'; reason: string }

export interface SyncOptions extends ProgressOptions {
  /** Copy RepoFile bytes; false leaves them behind, noted in `.dbx/missing`. @default true */
  repofiles?: boolean | undefined
  /** Report what would change; change nothing. @default false */
  dryRun?: boolean | undefined
  /** Resolve conflicts in favour of this side (its version or deletion wins). @default none */
  prefer?: SideName | undefined
  /**
   * Which ends may change: "both", or only B ("a-to-b", a push) or only A ("b-to-a", a pull).
   * Changes the other way are reported as `pending`. @default "both"
   */
  direction?: Direction
}

export interface SyncChange {
  id: string
  path: string
  action: 'copy' | 'replace' | 'delete'
  /** The side that changed (its label). */
  on: string
}

/** What a sync did (or, dry, would do). */
export interface SyncReport {
  a: string
  b: string
  dryRun: boolean
  changes: SyncChange[]
  conflicts: Array<{
    id: string
    reason: string
    a?: IndexEntry | undefined
    b?: IndexEntry | undefined
  }>
  skipped: Array<{ id: string; reason: string }>
  /** Changes a one-way sync did not make (they would change the other end). */
  pending: SyncChange[]
  errors: Array<{ id: string; message: string }>
  repofiles: { copied: number; bytes: number; leftBehind: number; unavailable: string[] }
  problems: Array<{ path: string; message: string }>
}

export { localSide } from './local-side.ts'
export { type LocalState, refreshLocalState, saveLocalState } from './local-state.ts'
export { isUrl, type OpenSideOptions, openSide, resolveRemote } from './open-side.ts'
export { REMOTE_KEYS, remoteSide } from './remote-side.ts'
export { newRecord } from './state.ts'
export { syncAndClose, syncSides } from './sync.ts'
