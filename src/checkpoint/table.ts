import { MlvcError } from '../core/index.ts'
import {
  blocks,
  contentSource,
  ingestSource,
  iterableSource,
  readManifest,
  type Store,
} from '../store/index.ts'
import type { TensorRecord } from './meta.ts'

/** Lines are gathered into pieces of about this size before they go to the chunker. */
const PIECE = 1 << 20

async function* tableLines(records: readonly TensorRecord[]): AsyncIterable<Uint8Array> {
  let lines: string[] = []
  let length = 0
  for (const record of records) {
    const line = `${JSON.stringify(record)}\n`
    lines.push(line)
    length += line.length
    if (length >= PIECE) {
      yield Buffer.from(lines.join(''))
      lines = []
      length = 0
    }
  }
  if (lines.length > 0) yield Buffer.from(lines.join(''))
}

/**
 * Stores a tensor table as a blob of JSON lines, one record per line in file order, and returns
 * its id. Content-defined chunks make an unchanged run of tensors cost nothing in the next version.
 */
export async function storeTable(
  store: Store,
  records: readonly TensorRecord[],
  path: string,
): Promise<string> {
  const stored = await ingestSource(store, iterableSource(tableLines(records)), {
    path: `${path} (tensor table)`,
  })
  return stored.id
}

function badTable(id: string, why: string): MlvcError {
  return new MlvcError('CORRUPT', `tensor table ${id}: ${why}`, { hint: 'run mlvc fsck' })
}

function parseRecord(id: string, line: string): TensorRecord {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    throw badTable(id, 'a line is not JSON')
  }
  const record = value as Partial<TensorRecord> | null
  if (typeof record !== 'object' || record === null || typeof record.name !== 'string')
    throw badTable(id, 'a line is not a tensor record')
  return record as TensorRecord
}

/**
 * Reads a tensor table back, streaming (chunks checked against their ids as they are read); it
 * must hold `count` records. MISSING_OBJECT when the store lacks it or a chunk of it.
 */
export async function readTable(store: Store, id: string, count: number): Promise<TensorRecord[]> {
  const source = contentSource(store, await readManifest(store, id), { verifyChunks: true })
  const records: TensorRecord[] = []
  const decoder = new TextDecoder('utf-8', { fatal: true })
  let rest = ''
  for await (const block of blocks(source)) {
    const text = rest + decoder.decode(block, { stream: true })
    const lines = text.split('\n')
    rest = lines.pop() ?? ''
    for (const line of lines) records.push(parseRecord(id, line))
  }
  rest += decoder.decode()
  if (rest !== '') throw badTable(id, 'the last line is cut off')
  if (records.length !== count)
    throw badTable(id, `it holds ${records.length} tensors, its file says ${count}`)
  return records
}
