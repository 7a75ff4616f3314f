/**
 * Runs `fn` over `items` with at most `concurrency` calls in flight and returns the results in input
 * order. The first failure stops new calls and is rethrown once the running ones settle.
 */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  let failure: { err: unknown } | undefined
  async function lane(): Promise<void> {
    while (failure === undefined && next < items.length) {
      const index = next++
      try {
        results[index] = await fn(items[index] as T, index)
      } catch (err) {
        failure ??= { err }
      }
    }
  }
  const lanes = Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, lane)
  await Promise.all(lanes)
  if (failure) throw failure.err
  return results
}
