/**
 * Float64 sums for whole tensors. A chunk (at most CHUNK values) is summed in a plain loop, which
 * V8 keeps fast; chunk totals are added with Neumaier's compensation, so the error grows with the
 * chunk length (about 2^13 · 2^-53 relative, in the worst case) and not with the tensor's size.
 */
export interface Sum {
  value: number
  compensation: number
}

export function createSum(): Sum {
  return { value: 0, compensation: 0 }
}

export function addTo(sum: Sum, x: number): void {
  const t = sum.value + x
  if (Math.abs(sum.value) >= Math.abs(x)) sum.compensation += sum.value - t + x
  else sum.compensation += x - t + sum.value
  sum.value = t
}

export function totalOf(sum: Sum): number {
  return sum.value + sum.compensation
}

/** Count, mean and sum of squared deviations: Chan et al.'s parallel form of Welford's update. */
export interface Moments {
  n: number
  mean: number
  m2: number
}

export function createMoments(): Moments {
  return { n: 0, mean: 0, m2: 0 }
}

/** Adds a chunk summarized by its own count, mean and m2. */
export function addMoments(into: Moments, n: number, mean: number, m2: number): void {
  if (n === 0) return
  const total = into.n + n
  const delta = mean - into.mean
  into.mean += (delta * n) / total
  into.m2 += m2 + ((delta * delta * into.n) / total) * n
  into.n = total
}
