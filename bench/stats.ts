import { maxOf, minOf } from '../src/core/index.ts'
/** The median of a non-empty list (the mean of the middle two for an even length). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of an empty list')
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  const upper = sorted[mid] as number
  return sorted.length % 2 === 1 ? upper : ((sorted[mid - 1] as number) + upper) / 2
}

export interface Range {
  min: number
  max: number
}

export function range(values: readonly number[]): Range {
  if (values.length === 0) throw new RangeError('range of an empty list')
  return { min: minOf(values), max: maxOf(values) }
}

/** MB/s with MB = 10^6 bytes. */
export function throughput(bytes: number, seconds: number): number {
  return bytes / 1e6 / seconds
}
