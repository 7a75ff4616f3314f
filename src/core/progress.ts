/**
 * Typed progress events. The library emits them; only the CLI renders them.
 * `done` and `total` are bytes unless the event says otherwise.
 */
export type ProgressEvent =
  | { type: 'ingest'; path: string; done: number; total: number }
  | { type: 'materialize'; path: string; done: number; total: number }
  | { type: 'verify'; done: number; total: number }
  | { type: 'transfer'; direction: 'upload' | 'download'; done: number; total: number }
  | { type: 'objects'; phase: string; done: number; total: number }
  /** Counts of files (an entity's add, checkout): `done` and `total` are files, not bytes. */
  | { type: 'files'; phase: string; done: number; total: number }

export type ProgressHandler = (event: ProgressEvent) => void

export interface ProgressOptions {
  onProgress?: ProgressHandler | undefined
  /** Stops the operation at the next safe point with an INTERRUPTED error. */
  signal?: AbortSignal | undefined
}
