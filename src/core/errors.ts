/**
 * The one user-facing error type. `code` is stable (scripts and tests match on it), `message` names
 * the path, object or remote, `hint` says what to do next.
 */
export type ErrorCode =
  | 'USAGE'
  | 'NOT_FOUND'
  | 'NOT_A_REPO'
  | 'BAD_ID'
  | 'IO'
  | 'NO_SPACE'
  | 'PERMISSION'
  | 'CORRUPT'
  | 'MISSING_OBJECT'
  | 'BAD_CONFIG'
  | 'LOCKED'
  | 'INTERRUPTED'
  | 'GIT'
  | 'BAD_STUB'
  | 'NOT_INSTALLED'
  | 'REMOTE'
  | 'BAD_DELTA'
  | 'BAD_FORMAT'
  | 'UNSAFE_PATH'
  | 'MISSING_KEY'
  | 'EXISTS'
  /** An entity's spec or manifest (a dataset, labels or model) is malformed. */
  | 'BAD_SPEC'
  /** A deployment failed: its build, its process, or its handler (the hub answers 5xx). */
  | 'DEPLOYMENT'
  /** A broken invariant: a bug in mlvc, not in its input (see `must`). */
  | 'INTERNAL'

export interface MlvcErrorOptions {
  hint?: string
  cause?: unknown
  /** A remote's failure that may pass if the request is sent again (timeouts, resets, 5xx, throttling). */
  retryable?: boolean
  /** The one file the error is about, as the message names it (see `fileError`). */
  path?: string | undefined
  /** The message without the file's name: what is wrong with it (see `fileError`). */
  detail?: string | undefined
}

export class MlvcError extends Error {
  readonly code: ErrorCode
  readonly hint: string | undefined
  readonly retryable: boolean
  /**
   * The one file the error is about, spelled as the message names it; undefined when the error is
   * about no single file (or nobody said). Callers that name files themselves compare this field,
   * never the message's text (see `naming`).
   */
  readonly path: string | undefined
  /** What is wrong with `path`, without its name, for a caller that names the file its own way. */
  readonly detail: string | undefined

  constructor(code: ErrorCode, message: string, options: MlvcErrorOptions = {}) {
    super(message, { cause: options.cause })
    this.name = 'MlvcError'
    this.code = code
    this.hint = options.hint
    this.retryable = options.retryable === true
    this.path = options.path
    this.detail = options.detail
  }
}

/** An error about one file: the message is `PATH: DETAIL`, and both parts are kept as fields. */
export function fileError(
  code: ErrorCode,
  path: string,
  detail: string,
  options: Omit<MlvcErrorOptions, 'path' | 'detail'> = {},
): MlvcError {
  return new MlvcError(code, `${path}: ${detail}`, { ...options, path, detail })
}

/**
 * The error's message naming `path` once: as it is when the error says it is about that file,
 * else prefixed with `PATH: `.
 */
export function naming(err: unknown, path: string): string {
  const message = err instanceof Error ? err.message : String(err)
  return isMlvcError(err) && err.path === path ? message : `${path}: ${message}`
}

export function isMlvcError(err: unknown, code?: ErrorCode): err is MlvcError {
  return err instanceof MlvcError && (code === undefined || err.code === code)
}

/** True when `err` is a Node system error with the given errno code (ENOENT, EEXIST, …). */
export function isErrno(err: unknown, code: string): err is NodeJS.ErrnoException {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code
}

/**
 * Turns a system error from touching `path` into an MlvcError that says what happened there.
 * MlvcErrors pass through unchanged.
 */
export function fsError(err: unknown, action: string, path: string): MlvcError {
  if (err instanceof MlvcError) return err
  const errno = (err as NodeJS.ErrnoException | undefined)?.code
  switch (errno) {
    case 'ENOENT':
      return new MlvcError('NOT_FOUND', `${action} ${path}: no such file or directory`, {
        cause: err,
      })
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new MlvcError('PERMISSION', `${action} ${path}: permission denied`, {
        cause: err,
        hint: 'check the permissions of the folder, or point the store elsewhere (store.path in .mlvc/config.local.yaml)',
      })
    case 'ENOSPC':
    case 'EDQUOT':
      return new MlvcError('NO_SPACE', `${action} ${path}: no space left on device`, {
        cause: err,
        hint: 'free some space (mlvc gc removes unreferenced objects) and run the command again; nothing was lost',
      })
    case 'EISDIR':
      return new MlvcError('USAGE', `${action} ${path}: is a directory`, { cause: err })
    default:
      return new MlvcError(
        'IO',
        `${action} ${path}: ${(err as Error | undefined)?.message ?? String(err)}`,
        { cause: err },
      )
  }
}
