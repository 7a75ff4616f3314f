import { fileError, type MlvcError } from '../core/index.ts'

const HINT =
  'mlvc stores the file as an opaque blob (whole-file chunks, no per-tensor diffs); re-save it with the library that wrote it to get tensor-level tracking'

/**
 * The error every codec throws for content it cannot or will not read. The caller turns it into
 * "store as a generic blob with a note" (the message is the note; `detail` is the note without the
 * file's name, for a caller that names the file its own way).
 */
export function badFormat(file: string, what: string, cause?: unknown): MlvcError {
  return fileError('BAD_FORMAT', file, what, { hint: HINT, cause })
}

/** A non-negative safe integer from a header field, or BAD_FORMAT naming the field. */
export function checkCount(file: string, what: string, value: number | bigint): number {
  if (typeof value === 'bigint') {
    if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw badFormat(file, `${what} ${value} is out of range`)
    }
    return Number(value)
  }
  if (!Number.isSafeInteger(value) || value < 0)
    throw badFormat(file, `${what} ${value} is out of range`)
  return value
}

/** Product of dimensions; BAD_FORMAT if it leaves the safe integer range. */
export function elementCount(file: string, what: string, shape: readonly number[]): number {
  let n = 1
  for (const d of shape) {
    n *= d
    if (!Number.isSafeInteger(n)) throw badFormat(file, `${what}: shape [${shape}] is too large`)
  }
  return n
}
