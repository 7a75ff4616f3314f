import type { MetadataValue } from './layout.ts'

/** A copy with every object's keys sorted (code-unit order), so equal content gives equal JSON. */
export function sortKeys(value: MetadataValue): MetadataValue {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value === null || typeof value !== 'object') return value
  return sortedRecord(Object.entries(value))
}

export function sortedRecord(
  entries: Iterable<readonly [string, MetadataValue]>,
): Record<string, MetadataValue> {
  const out: Record<string, MetadataValue> = {}
  for (const [k, v] of [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    // defineProperty, not assignment: a key named "__proto__" must stay a plain key.
    Object.defineProperty(out, k, {
      value: sortKeys(v),
      enumerable: true,
      writable: true,
      configurable: true,
    })
  }
  return out
}

/** Integers beyond 2^53 and non-finite floats do not survive JSON as numbers: keep them as text. */
export function metadataNumber(value: number | bigint): MetadataValue {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString()
  }
  return Number.isFinite(value) ? value : String(value)
}

/** record[key] if it is the record's own entry: keys from files must not reach Object.prototype. */
export function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined
}
