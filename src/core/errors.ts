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

export interface MlvcErrorOptions {
  hint?: string
  cause?: unknown
  /** A remote's failure that may pass if the request is sent again (timeouts, resets, 5xx, throttling). */
  retryable?: boolean
}

export class MlvcError extends Error {
  readonly code: ErrorCode
  readonly hint: string | undefined
  readonly retryable: boolean

  constructor(code: ErrorCode, message: string, options: MlvcErrorOptions = {}) {
    super(message, { cause: options.cause })
    this.name = 'MlvcError'
    this.code = code
    this.hint = options.hint
    this.retryable = options.retryable === true
  }
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
