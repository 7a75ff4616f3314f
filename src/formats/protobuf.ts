import { badFormat, checkCount } from './bad-format.ts'
import type { Cursor } from './cursor.ts'

export const WIRE_VARINT = 0
export const WIRE_I64 = 1
export const WIRE_LEN = 2
export const WIRE_I32 = 5

/** One field of a protobuf message as the walker meets it. */
export interface Field {
  number: number
  wire: number
  /** Offset of the tag. */
  tagStart: number
  /** For WIRE_LEN: where the length varint starts and where the payload [start, end) lies. */
  lengthStart: number
  start: number
  end: number
}

/**
 * Reads the next field's tag and, for length-delimited fields, its length; leaves the cursor at
 * the payload (or the scalar). Groups (wire types 3, 4) are refused: no ONNX message uses them.
 */
export async function nextField(c: Cursor, region: string): Promise<Field> {
  const tagStart = c.pos
  const tag = checkCount(c.source.path, `${region} field tag`, await c.varint())
  const number = Math.floor(tag / 8)
  const wire = tag % 8
  if (
    number === 0 ||
    (wire !== WIRE_VARINT && wire !== WIRE_I64 && wire !== WIRE_LEN && wire !== WIRE_I32)
  ) {
    throw badFormat(c.source.path, `${region}: bad protobuf tag ${tag} at offset ${tagStart}`)
  }
  const lengthStart = c.pos
  let length = 0
  if (wire === WIRE_LEN) {
    length = checkCount(c.source.path, `${region} field length`, await c.varint())
    if (c.pos + length > c.end) {
      throw badFormat(
        c.source.path,
        `${region}: field ${number} at offset ${tagStart} has length ${length}, past the end of its message at ${c.end}`,
      )
    }
  }
  return { number, wire, tagStart, lengthStart, start: c.pos, end: c.pos + length }
}

/** Skips a field's value after nextField. */
export async function skipField(c: Cursor, field: Field): Promise<void> {
  switch (field.wire) {
    case WIRE_VARINT:
      await c.varint()
      return
    case WIRE_I64:
      c.skip(8)
      return
    case WIRE_I32:
      c.skip(4)
      return
    default:
      c.skip(field.end - c.pos)
  }
}

export function encodeVarint(value: bigint): Uint8Array {
  const out: number[] = []
  let v = BigInt.asUintN(64, value)
  do {
    const b = Number(v & 0x7fn)
    v >>= 7n
    out.push(v > 0n ? b | 0x80 : b)
  } while (v > 0n)
  return Uint8Array.from(out)
}
