import { MlvcError, pushAll } from '../core/index.ts'
import {
  blocks,
  contentSource,
  ingestSource,
  iterableSource,
  readManifest,
  type Store,
} from '../store/index.ts'
import type { TensorRecord } from './meta.ts'
import { decodeTableLines, encodeTableLine } from './table-line.ts'

/** Lines are gathered into pieces of about this size before they go to the chunker. */
const PIECE = 1 << 20

async function* tableLines(records: readonly TensorRecord[]): AsyncIterable<Uint8Array> {
  let lines: string[] = []
  let length = 0
  for (const record of records) {
    const line = `${encodeTableLine(record)}\n`
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
 * Stores a tensor table as a blob of lines (table-line.ts), one tensor per line in file order,
 * and returns its id. Content-defined chunks make an unchanged run of tensors cost nothing in the next version.
 */
export async function storeTable(
  store: Store,
  records: readonly TensorRecord[],
  path: string,
): Promise<string> {
  const stored = await ingestSource(store, iterableSource(tableLines(records)), {
    path: `${path} (tensor table)`,
    // Metadata: deflated whatever the store's setting (JSON lines shrink several times).
    compress: true,
  })
  return stored.id
}

function badTable(id: string, why: string): MlvcError {
  return new MlvcError('CORRUPT', `tensor table ${id}: ${why}`, { hint: 'run mlvc fsck' })
}

/**
 * Reads a tensor table back, streaming (chunks checked against their ids as they are read); it
 * must hold `count` records. MISSING_OBJECT when the store lacks it or a chunk of it.
 */
export async function readTable(store: Store, id: string, count: number): Promise<TensorRecord[]> {
  const source = contentSource(store, await readManifest(store, id), { verifyChunks: true })
  const records: TensorRecord[] = []
  // Blocks are cut after their last newline (a byte no UTF-8 sequence contains) and decoded whole.
  let rest: Buffer = Buffer.alloc(0)
  for await (const block of blocks(source, 4 * 1024 * 1024)) {
    const bytes = rest.length > 0 ? Buffer.concat([rest, block]) : Buffer.from(block)
    const end = bytes.lastIndexOf(0x0a) + 1
    const lines = bytes.toString('utf8', 0, end).split('\n')
    lines.pop() // after the last newline: empty
    // A blank line or a line that is not one JSON value would merge with its neighbours: refused.
    if (lines.some((line) => line === '')) throw badTable(id, 'a line is empty')
    const decoded = decodeTableLines(lines)
    if (!decoded) throw badTable(id, 'a line is not a tensor record')
    pushAll(records, decoded)
    rest = bytes.subarray(end)
  }
  if (rest.length > 0) throw badTable(id, 'the last line is cut off')
  if (records.length !== count)
    throw badTable(id, `it holds ${records.length} tensors, its file says ${count}`)
  return records
}
