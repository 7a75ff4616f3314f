import { badFormat } from './bad-format.ts'
import { createCursor } from './cursor.ts'
import { openExternalData } from './external.ts'
import type { CheckpointLayout, MetadataValue, TensorLayout } from './layout.ts'
import { metadataNumber, sortedRecord } from './metadata.ts'
import { onnxTensorLayout, type ParsedTensor, readTensorProto } from './onnx-tensor.ts'
import { type Field, nextField, skipField, WIRE_LEN, WIRE_VARINT } from './protobuf.ts'
import { buildSegments, checkUniqueNames } from './segments.ts'
import { type ByteSource, withFileSource } from './source.ts'

/** ModelProto field numbers and wire types (onnx.proto3). */
const MODEL_FIELDS: Record<number, number> = {
  1: WIRE_VARINT, // ir_version
  2: WIRE_LEN, // producer_name
  3: WIRE_LEN, // producer_version
  4: WIRE_LEN, // domain
  5: WIRE_VARINT, // model_version
  6: WIRE_LEN, // doc_string
  7: WIRE_LEN, // graph
  8: WIRE_LEN, // opset_import
  14: WIRE_LEN, // metadata_props
  20: WIRE_LEN, // training_info
  25: WIRE_LEN, // functions
  26: WIRE_LEN, // configuration
}
const MAX_TEXT = 64 * 1024

/** A length-delimited field enclosing a tensor's data: what must change when the data's size does. */
export interface LengthField {
  lengthStart: number
  start: number
  end: number
}

export interface ParsedOnnx {
  layout: CheckpointLayout
  /** Per tensor with in-file data: graph field, initializer field, data field (outermost first). */
  chains: Map<string, LengthField[]>
}

/**
 * True if the file walks as a ModelProto: ir_version first (protobuf writers emit fields in number
 * order), only ModelProto fields with their wire types, a graph, and nothing left over.
 */
export async function sniffOnnx(src: ByteSource): Promise<boolean> {
  try {
    const c = createCursor(src, { start: 0, end: src.size }, 'ModelProto')
    const seen = new Set<number>()
    for (let i = 0; c.pos < c.end && i < 10_000; i++) {
      const f = await nextField(c, 'ModelProto')
      if (MODEL_FIELDS[f.number] !== f.wire || (i === 0 && f.number !== 1)) return false
      seen.add(f.number)
      await skipField(c, f)
    }
    return c.pos === c.end && seen.has(1) && seen.has(7)
  } catch {
    return false
  }
}

async function readText(src: ByteSource, f: Field, what: string): Promise<string> {
  if (f.wire !== WIRE_LEN) throw badFormat(src.path, `${what} is not a string field`)
  if (f.end - f.start > MAX_TEXT) return `(${f.end - f.start} bytes)`
  return new TextDecoder().decode(await src.read(f.start, f.end - f.start))
}

/** The string fields 1 and 2 of a small message (OperatorSetIdProto, StringStringEntryProto). */
async function readPair(src: ByteSource, f: Field, what: string): Promise<[string, MetadataValue]> {
  const c = createCursor(src, f, what)
  let first = ''
  let second: MetadataValue = ''
  while (c.pos < c.end) {
    const g = await nextField(c, what)
    if (g.number === 2 && g.wire === WIRE_VARINT) {
      second = metadataNumber(await c.varint())
      continue
    }
    if (g.number === 1 && g.wire === WIRE_LEN) first = await readText(src, g, what)
    if (g.number === 2 && g.wire === WIRE_LEN) second = await readText(src, g, what)
    await skipField(c, g)
  }
  return [first, second]
}

interface GraphResult {
  name: string
  tensors: ParsedTensor[]
}

async function readGraph(src: ByteSource, graph: Field): Promise<GraphResult> {
  const c = createCursor(src, graph, 'GraphProto')
  const out: GraphResult = { name: '', tensors: [] }
  while (c.pos < c.end) {
    const f = await nextField(c, 'GraphProto')
    if (f.number === 2) out.name = await readText(src, f, 'graph name')
    if (f.number === 5) {
      if (f.wire !== WIRE_LEN)
        throw badFormat(src.path, 'GraphProto: an initializer is not a message')
      out.tensors.push({ ...(await readTensorProto(src, f, out.tensors.length)), field: f })
    }
    await skipField(c, f)
  }
  return out
}

async function externalSize(src: ByteSource, t: ParsedTensor, location: string): Promise<number> {
  const { handle, size } = await openExternalData(src.path, t.name, location)
  await handle.close()
  return size
}

export async function parseOnnx(src: ByteSource): Promise<ParsedOnnx> {
  const c = createCursor(src, { start: 0, end: src.size }, 'ModelProto')
  const meta: Array<[string, MetadataValue]> = []
  const opsets: MetadataValue[] = []
  const props: Array<[string, MetadataValue]> = []
  let graph: { field: Field; result: GraphResult } | undefined
  while (c.pos < c.end) {
    const f = await nextField(c, 'ModelProto')
    const expected = MODEL_FIELDS[f.number]
    if (expected !== undefined && expected !== f.wire)
      throw badFormat(src.path, `ModelProto field ${f.number} has the wrong wire type`)
    if (f.number === 1 || f.number === 5) {
      meta.push([f.number === 1 ? 'ir_version' : 'model_version', metadataNumber(await c.varint())])
      continue
    }
    const textKey = { 2: 'producer_name', 3: 'producer_version', 4: 'domain', 6: 'doc_string' }[
      f.number
    ]
    if (textKey) meta.push([textKey, await readText(src, f, textKey)])
    if (f.number === 7) {
      if (graph) throw badFormat(src.path, 'ModelProto has two graphs')
      graph = { field: f, result: await readGraph(src, f) }
    }
    if (f.number === 8) {
      const [domain, version] = await readPair(src, f, 'opset_import')
      opsets.push({ domain, version })
    }
    if (f.number === 14) props.push(await readPair(src, f, 'metadata_props'))
    await skipField(c, f)
  }
  if (!graph) throw badFormat(src.path, 'the ONNX model has no graph')
  if (opsets.length) meta.push(['opset_import', opsets])
  if (props.length)
    meta.push(['metadata_props', sortedRecord(props.map(([k, v]) => [String(k), v]))])
  if (graph.result.name) meta.push(['graph_name', graph.result.name])

  const chains = new Map<string, LengthField[]>()
  const tensors: TensorLayout[] = []
  for (const t of graph.result.tensors) {
    const size = t.external ? await externalSize(src, t, t.external.location) : undefined
    const layout = await onnxTensorLayout(src, t, size)
    tensors.push(layout)
    if (t.data) chains.set(layout.name, [graph.field, t.field, t.data])
  }
  checkUniqueNames(src.path, tensors)
  return {
    layout: {
      format: 'onnx',
      size: src.size,
      metadata: sortedRecord(meta),
      tensors,
      segments: buildSegments(src.path, src.size, tensors),
    },
    chains,
  }
}

export async function readOnnxLayout(src: ByteSource): Promise<CheckpointLayout> {
  return (await parseOnnx(src)).layout
}

/**
 * The external data files an ONNX model's initializers name (locations relative to its folder,
 * each once, sorted), from the model alone: the files themselves are not opened. Empty when the
 * file is not ONNX.
 */
export async function readOnnxExternalFiles(path: string): Promise<string[]> {
  return withFileSource(path, async (src) => {
    if (!(await sniffOnnx(src))) return []
    const c = createCursor(src, { start: 0, end: src.size }, 'ModelProto')
    const files = new Set<string>()
    while (c.pos < c.end) {
      const f = await nextField(c, 'ModelProto')
      if (f.number === 7 && f.wire === WIRE_LEN) {
        for (const t of (await readGraph(src, f)).tensors)
          if (t.external) files.add(t.external.location)
      }
      await skipField(c, f)
    }
    return [...files].sort()
  })
}
