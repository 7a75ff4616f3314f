import { MlvcError, pushAll } from '../core/index.ts'
import type { DType } from './dtype.ts'
import type { LengthField } from './onnx.ts'
import { encodeVarint } from './protobuf.ts'
import type { ByteSource } from './source.ts'
import { itemSize } from './tensor-info.ts'
import { encodeVarints } from './varint.ts'
import { collect, copyRange, type OutFile, writeAt } from './write-io.ts'
import type { Replacement } from './write-tensor.ts'

interface Edit {
  start: number
  end: number
  data: Uint8Array | AsyncIterable<Uint8Array>
  length: number
}

export interface WriteOnnxOptions {
  src: ByteSource
  /** From parseOnnx: the length-delimited fields around each tensor's data. */
  chains: ReadonlyMap<string, LengthField[]>
  replacements: Replacement[]
  out: OutFile
}

/**
 * New length prefixes for the messages around changed varint data, innermost first, so each
 * outer prefix counts the inner prefixes' change in size too.
 */
function lengthEdits(edits: Edit[], fields: LengthField[]): Edit[] {
  const unique = [...new Map(fields.map((f) => [f.lengthStart, f])).values()]
  const out: Edit[] = []
  for (const f of unique.toSorted((a, b) => a.end - a.start - (b.end - b.start))) {
    let length = f.end - f.start
    for (const e of [...edits, ...out]) {
      if (e.start >= f.start && e.end <= f.end) length += e.length - (e.end - e.start)
    }
    const prefix = encodeVarint(BigInt(length))
    out.push({ start: f.lengthStart, end: f.start, data: prefix, length: prefix.length })
  }
  return out
}

/**
 * Writes the model with some initializers' data replaced. Raw and float/double data keep their
 * size; varint data (int32_data, int64_data, uint64_data) is re-encoded and the enclosing
 * TensorProto, GraphProto and ModelProto lengths follow. The re-encoded varints are held in
 * memory: protobuf caps such a model at 2 GB anyway.
 */
export async function writeOnnx(o: WriteOnnxOptions): Promise<void> {
  const edits: Edit[] = []
  const fields: LengthField[] = []
  for (const { tensor, blocks } of o.replacements) {
    if (tensor.encoding.kind !== 'varint') {
      edits.push({ start: tensor.start, end: tensor.end, data: blocks, length: tensor.nbytes })
      continue
    }
    const data = encodeVarints(await collect(blocks), tensor.dtype as DType, itemSize(tensor))
    const chain = o.chains.get(tensor.name)
    if (!chain)
      throw new MlvcError(
        'USAGE',
        `${o.src.path}: tensor ${tensor.name} has no data field to rewrite`,
      )
    edits.push({ start: tensor.start, end: tensor.end, data, length: data.length })
    pushAll(fields, chain)
  }
  pushAll(edits, lengthEdits(edits, fields))
  let pos = 0
  let srcPos = 0
  for (const e of edits.toSorted((a, b) => a.start - b.start)) {
    pos = await copyRange(o.out, pos, { src: o.src, start: srcPos, end: e.start })
    for await (const chunk of e.data instanceof Uint8Array ? [e.data] : e.data) {
      await writeAt(o.out, pos, chunk)
      pos += chunk.length
    }
    srcPos = e.end
  }
  await copyRange(o.out, pos, { src: o.src, start: srcPos, end: o.src.size })
}
