import { DATA_KINDS, type DataRegion, elementWidth } from './encoding.ts'

/** Data regions as typed arrays (for messages to worker threads), sorted by start. */
export interface RegionTable {
  starts: Float64Array<ArrayBuffer>
  /** Codes of DATA_KINDS. */
  kinds: Uint8Array<ArrayBuffer>
}

export function regionTable(regions: readonly DataRegion[]): RegionTable {
  return {
    starts: Float64Array.from(regions, (r) => r.start),
    kinds: Uint8Array.from(regions, (r) => DATA_KINDS.indexOf(r.kind)),
  }
}

/** What data starts at an offset: its kind's code, and the bytes before its first whole element. */
export interface RegionAt {
  kind: number
  phase: number
}

/**
 * Looks up the region of each offset: the last one starting at or before it (plain bytes before
 * the first). Cheap for offsets in increasing order, as chunks come; any order is correct.
 */
export function regionCursor(table: RegionTable): (offset: number) => RegionAt {
  let r = -1
  return (offset) => {
    if (r >= 0 && (table.starts[r] ?? 0) > offset) r = -1
    while (r + 1 < table.starts.length && (table.starts[r + 1] ?? 0) <= offset) r++
    if (r < 0) return { kind: 0, phase: 0 }
    const kind = table.kinds[r] ?? 0
    const width = elementWidth(DATA_KINDS[kind] ?? 'bytes')
    const into = (offset - (table.starts[r] ?? 0)) % width
    return { kind, phase: (width - into) % width }
  }
}
