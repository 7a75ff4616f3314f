import type { ProgressOptions } from '../core/index.ts'
import type { IndexEntry } from './state.ts'
import type { Direction, SideName } from './sync-plan.ts'

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
