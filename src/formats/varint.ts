import { badFormat } from './bad-format.ts'
import type { DType } from './dtype.ts'
import type { TensorLayout } from './layout.ts'
import type { ByteSource } from './source.ts'
import { itemSize } from './tensor-info.ts'

/**
 * ONNX packed varint data to little-endian elements of `item` bytes: each element is the low bits
 * of its varint (negative int32s are 10-byte sign-extended varints; the low bits are right).
 */
export async function* decodeVarints(
  src: ByteSource,
  tensor: TensorLayout,
  block: number,
): AsyncGenerator<Uint8Array> {
  const item = itemSize(tensor)
  const numel = tensor.nbytes / item
  let out = new Uint8Array(Math.min(block, tensor.nbytes))
  let o = 0
  let done = 0
  let lo = 0
  let hi = 0
  let shift = 0
  for (let at = tensor.start; at < tensor.end; at += 1 << 20) {
    const bytes = await src.read(at, Math.min(1 << 20, tensor.end - at))
    for (const b of bytes) {
      const bits = b & 0x7f
      if (shift < 32) {
        lo = (lo | (bits << shift)) >>> 0
        if (shift > 25) hi = (hi | (bits >>> (32 - shift))) >>> 0
      } else if (shift < 64) {
        hi = (hi | (bits << (shift - 32))) >>> 0
      }
      shift += 7
      if (b >= 0x80) continue
      if (done === numel)
        throw badFormat(src.path, `tensor ${tensor.name} holds more values than its shape`)
      for (let k = 0; k < item; k++)
        out[o + k] = (k < 4 ? lo >>> (8 * k) : hi >>> (8 * (k - 4))) & 0xff
      o += item
      done++
      lo = 0
      hi = 0
      shift = 0
      if (o === out.length) {
        yield out
        out = new Uint8Array(Math.min(block, tensor.nbytes - done * item))
        o = 0
      }
    }
  }
  if (done !== numel || shift !== 0)
    throw badFormat(
      src.path,
      `tensor ${tensor.name} holds ${done} values, its shape needs ${numel}`,
    )
}

const SIGNED: ReadonlySet<DType | string> = new Set(['I8', 'I16', 'I32', 'I64'])

/** Little-endian elements to the varints ONNX writes for them (sign-extended for signed ints). */
export function encodeVarints(data: Uint8Array, dtype: DType, item: number): Uint8Array {
  const out = new Uint8Array((data.length / item) * 10)
  const view = new DataView(data.buffer, data.byteOffset, data.length)
  let o = 0
  for (let i = 0; i < data.length; i += item) {
    let v: bigint
    if (item === 8) v = view.getBigUint64(i, true)
    else {
      let n = 0
      for (let k = item - 1; k >= 0; k--) n = n * 256 + view.getUint8(i + k)
      if (SIGNED.has(dtype) && n >= 2 ** (8 * item - 1)) n -= 2 ** (8 * item)
      v = BigInt.asUintN(64, BigInt(n))
    }
    do {
      const b = Number(v & 0x7fn)
      v >>= 7n
      out[o++] = v > 0n ? b | 0x80 : b
    } while (v > 0n)
  }
  return out.subarray(0, o)
}
