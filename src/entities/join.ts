import { comparePaths } from './manifest.ts'

interface Peek<T> {
  iter: Iterator<T>
  head: T | undefined
}

/**
 * Walks sorted streams of records keyed by path in step: yields, for each path in any stream, the
 * record of each stream at that path (undefined where a stream has none). Every stream must be in
 * comparePaths order with unique paths; memory is one record per stream.
 */
export function* joinByPath<T extends readonly Iterable<{ path: string }>[]>(
  ...streams: T
): Generator<{ [K in keyof T]: (T[K] extends Iterable<infer R> ? R : never) | undefined }> {
  const peeks: Peek<{ path: string }>[] = streams.map((s) => {
    const iter = s[Symbol.iterator]()
    const first = iter.next()
    return { iter, head: first.done ? undefined : first.value }
  })
  for (;;) {
    let least: string | undefined
    for (const p of peeks) {
      if (p.head && (least === undefined || comparePaths(p.head.path, least) < 0))
        least = p.head.path
    }
    if (least === undefined) return
    const row = peeks.map((p) => {
      if (!p.head || p.head.path !== least) return undefined
      const value = p.head
      const next = p.iter.next()
      p.head = next.done ? undefined : next.value
      return value
    })
    yield row as never
  }
}
