export interface RemoteObjectInfo {
  key: string
  size: number
  /** When it was written (listings give it; gc keeps what is younger than its grace period). */
  modified?: Date | undefined
}

export interface RemoteCallOptions {
  /** Abandons the request (an INTERRUPTED error). */
  signal?: AbortSignal | undefined
  /** Called as bytes of an upload or download are sent or received (for progress). */
  onBytes?: ((bytes: number) => void) | undefined
  /**
   * upload: the same file (unchanged) will be uploaded to the same key again if this attempt is
   * interrupted, so the remote may keep what it needs beside the file (`<path>.upload.json`) to
   * send only the rest next time, instead of abandoning the part already sent.
   */
  resumable?: boolean | undefined
  /**
   * getRange: a buffer the remote may read the bytes into (when it holds `length` bytes), so that
   * a caller reading many ranges reuses a few buffers instead of allocating each anew; the result
   * may then be a view of it, valid until the caller reuses the buffer.
   */
  into?: Buffer | undefined
}

/**
 * Object storage as mlvc needs it, the same for a folder, S3 and the hub: flat keys ("packs/x.pack",
 * "exp/abc/meta.json"), whole objects written atomically (a reader never sees part of one), no
 * appends. Keys use "/" and never contain "..", a leading "/" or a backslash.
 */
export interface Remote {
  readonly name: string
  /** Requests a transfer keeps in flight to this remote (`transfer.concurrency`). */
  readonly concurrency?: number | undefined
  /** Where it is, for messages: a path, s3://bucket/prefix, https://hub/… */
  readonly url: string
  /** Objects whose keys start with `prefix`, in no particular order. */
  list(prefix: string, options?: RemoteCallOptions): AsyncIterable<RemoteObjectInfo>
  /** The object's size, or undefined if it does not exist. */
  head(key: string, options?: RemoteCallOptions): Promise<RemoteObjectInfo | undefined>
  /** A whole (small) object; NOT_FOUND if absent. */
  get(key: string, options?: RemoteCallOptions): Promise<Buffer>
  /** `length` bytes at `offset` of an object (a range request); REMOTE error if it is shorter. */
  getRange(
    key: string,
    offset: number,
    length: number,
    options?: RemoteCallOptions,
  ): Promise<Buffer>
  /** Streams an object into a local file, atomically (temp file, rename). */
  download(key: string, path: string, options?: RemoteCallOptions): Promise<void>
  /** Stores a whole object. */
  put(key: string, data: Uint8Array | string, options?: RemoteCallOptions): Promise<void>
  /**
   * Stores a whole object only if no object has that key (atomically: of two concurrent creates
   * one wins); false when one existed.
   */
  create(key: string, data: Uint8Array | string, options?: RemoteCallOptions): Promise<boolean>
  /** Streams a local file into an object. */
  upload(path: string, key: string, options?: RemoteCallOptions): Promise<void>
  /**
   * Aborts uploads begun before `before` and never finished (S3 multipart uploads a killed process
   * left, which the provider bills until aborted); returns how many (found, with `dryRun`).
   * Remotes without such uploads do not have this method.
   */
  abandonedUploads?(before: Date, options: { dryRun: boolean }): Promise<number>
  /** Removes an object; absent objects are not an error. */
  delete(key: string, options?: RemoteCallOptions): Promise<void>
}
