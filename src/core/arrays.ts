// Helpers for arrays whose length comes from input. Spreading such an array into the arguments of
// push or Math.max passes every element on the stack, so a few hundred thousand of them (log
// lines, tensors, table rows) throw "Maximum call stack size exceeded"; these loop instead. The
// lint plugin lint/no-spread-call.grit keeps spreads out of call arguments.

/** Appends every item to `target` in order; returns `target`. */
export function pushAll<T>(target: T[], items: Iterable<T>): T[] {
  for (const item of items) target.push(item)
  return target
}

/** The largest value, or `empty` when there is none. NaN is skipped (it compares false). */
export function maxOf(values: Iterable<number>, empty = Number.NEGATIVE_INFINITY): number {
  let max: number | undefined
  for (const v of values) if (max === undefined ? !Number.isNaN(v) : v > max) max = v
  return max ?? empty
}

/** The smallest value, or `empty` when there is none. NaN is skipped (it compares false). */
export function minOf(values: Iterable<number>, empty = Number.POSITIVE_INFINITY): number {
  let min: number | undefined
  for (const v of values) if (min === undefined ? !Number.isNaN(v) : v < min) min = v
  return min ?? empty
}
