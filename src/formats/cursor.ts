import { badFormat } from './bad-format.ts'
import type { ByteSource } from './source.ts'

const BLOCK = 64 * 1024

/**
 * Sequential little-endian reads of the region [start, end) of a source, buffered in blocks.
 * Every read past `end` is BAD_FORMAT naming `region`, so parsers need no bounds checks of their
 * own for the data they walk, only for the sizes and offsets they believe.
 */
export interface Cursor {
  readonly source: ByteSource
  /** Absolute file offset of the next byte. */
  readonly pos: number
  readonly end: number
  bytes(length: number): Promise<Uint8Array>
  skip(length: number): void
  u8(): Promise<number>
  u16(): Promise<number>
  u32(): Promise<number>
  i32(): Promise<number>
  u64(): Promise<bigint>
  i64(): Promise<bigint>
  f32(): Promise<number>
  f64(): Promise<number>
  /** A protobuf base-128 varint, at most 10 bytes. */
  varint(): Promise<bigint>
}

export function createCursor(
  source: ByteSource,
  range: { start: number; end: number },
  region: string,
): Cursor {
  const { start, end } = range
  let pos = start
  let buf: Uint8Array = new Uint8Array(0)
  let bufStart = start
  let view = new DataView(buf.buffer)

  async function ensure(n: number): Promise<number> {
    if (n < 0 || pos + n > end) {
      throw badFormat(
        source.path,
        `${region} is truncated: ${n} bytes needed at offset ${pos}, but it ends at ${end}`,
      )
    }
    if (pos < bufStart || pos + n > bufStart + buf.length) {
      buf = await source.read(pos, Math.min(Math.max(n, BLOCK), end - pos))
      bufStart = pos
      view = new DataView(buf.buffer, buf.byteOffset, buf.length)
    }
    const at = pos - bufStart
    pos += n
    return at
  }

  return {
    source,
    get pos() {
      return pos
    },
    end,
    bytes: async (n) => {
      const at = await ensure(n)
      return buf.subarray(at, at + n)
    },
    skip: (n) => {
      if (n < 0 || pos + n > end) {
        throw badFormat(
          source.path,
          `${region}: a length of ${n} at offset ${pos} runs past ${end}`,
        )
      }
      pos += n
    },
    u8: async () => {
      const at = await ensure(1)
      return view.getUint8(at)
    },
    u16: async () => {
      const at = await ensure(2)
      return view.getUint16(at, true)
    },
    u32: async () => {
      const at = await ensure(4)
      return view.getUint32(at, true)
    },
    i32: async () => {
      const at = await ensure(4)
      return view.getInt32(at, true)
    },
    u64: async () => {
      const at = await ensure(8)
      return view.getBigUint64(at, true)
    },
    i64: async () => {
      const at = await ensure(8)
      return view.getBigInt64(at, true)
    },
    f32: async () => {
      const at = await ensure(4)
      return view.getFloat32(at, true)
    },
    f64: async () => {
      const at = await ensure(8)
      return view.getFloat64(at, true)
    },
    varint: async () => {
      let value = 0n
      for (let i = 0; i < 10; i++) {
        const at = await ensure(1)
        const b = view.getUint8(at)
        value |= BigInt(b & 0x7f) << BigInt(7 * i)
        if (b < 0x80) return BigInt.asUintN(64, value)
      }
      throw badFormat(source.path, `${region}: varint longer than 10 bytes at offset ${pos - 10}`)
    },
  }
}
