import { readFile, stat } from 'node:fs/promises'
import { fsError } from '../core/index.ts'
import { badFormat } from './bad-format.ts'
import type { MetadataValue } from './layout.ts'
import { sortedRecord } from './metadata.ts'

/** A Hugging Face sharded checkpoint index (`model.safetensors.index.json`, also `*.bin.index.json`). */
export interface ShardIndex {
  /** The index's `metadata` (total_size, …), keys sorted. */
  metadata: Record<string, MetadataValue>
  /** Tensor name → shard file, relative to the index's folder; in tensor name order. */
  weightMap: ReadonlyMap<string, string>
  /** Each shard file once, sorted. */
  shards: string[]
}

const MAX_INDEX_BYTES = 64 << 20

/** Whether a path is named as a sharded checkpoint's index (`*.index.json`). */
export function isShardIndexPath(path: string): boolean {
  return path.endsWith('.index.json')
}

/** A shard name must stay inside the index's folder: relative, no '..', no backslashes. */
function checkShardPath(path: string, shard: string): void {
  const parts = shard.split('/')
  if (
    shard === '' ||
    shard.startsWith('/') ||
    shard.includes('\\') ||
    shard.includes('\0') ||
    /^[a-zA-Z]:/.test(shard) ||
    parts.some((p) => p === '..' || p === '.' || p === '')
  ) {
    throw badFormat(
      path,
      `shard ${JSON.stringify(shard)} is not a plain path inside the index's folder`,
    )
  }
}

export function parseShardIndex(path: string, text: string): ShardIndex {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw badFormat(path, 'the shard index is not JSON', err)
  }
  const { weight_map: map, metadata } = (value ?? {}) as Record<string, unknown>
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw badFormat(path, 'the shard index has no weight_map object')
  }
  const entries: Array<[string, string]> = []
  for (const [name, shard] of Object.entries(map)) {
    if (typeof shard !== 'string') throw badFormat(path, `weight_map.${name} is not a file name`)
    checkShardPath(path, shard)
    entries.push([name, shard])
  }
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  const meta =
    typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata)
      ? sortedRecord(Object.entries(metadata as Record<string, MetadataValue>))
      : {}
  return {
    metadata: meta,
    weightMap: new Map(entries),
    shards: [...new Set(entries.map(([, s]) => s))].sort(),
  }
}

export async function readShardIndex(path: string): Promise<ShardIndex> {
  try {
    const { size } = await stat(path)
    if (size > MAX_INDEX_BYTES)
      throw badFormat(path, `${size} bytes is too large for a shard index`)
    return parseShardIndex(path, await readFile(path, 'utf8'))
  } catch (err) {
    throw fsError(err, 'reading', path)
  }
}
