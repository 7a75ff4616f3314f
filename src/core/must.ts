import { MlvcError } from './errors.ts'

const BUG_HINT = 'this is a bug in mlvc: please report it with the command that failed'

/**
 * `value`, when it is defined. For what the code itself guarantees (a key it has just set, an
 * element it has just counted): undefined here is a bug in mlvc, an INTERNAL error naming `what`.
 * Input from files, users and remotes is checked with errors of its own instead.
 */
export function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new MlvcError('INTERNAL', `${what} is missing`, { hint: BUG_HINT })
  return value
}

/** `array[i]`, which must exist (see must): INTERNAL naming `what` when `i` is out of range. */
export function at<T>(array: ArrayLike<T>, i: number, what = 'an element'): T {
  const value = array[i]
  if (value === undefined) {
    throw new MlvcError('INTERNAL', `${what}: index ${i} of ${array.length} is out of range`, {
      hint: BUG_HINT,
    })
  }
  return value
}
