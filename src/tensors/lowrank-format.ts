import type { DType } from '../formats/index.ts'
import { badDelta } from './delta-parse.ts'

/**
 * The low-rank delta format, version 1: a 2-D tensor (rows × cols, row-major) rebuilt from its old
 * version and two factors, exact to the bit.
 *
 *   header    "mlvr"  version=1 (1 byte)  dtype code (1 byte: 1 F32, 2 BF16, 3 F16)
 *             varint rows  varint cols  varint rank  varint residual count
 *   U         rows × rank f32 (little-endian, row-major)
 *   V         rank × cols f32 (little-endian, row-major)
 *   residual  count × (varint gap, varint zigzag difference)
 *
 * The reconstruction of element (i, j) is, in IEEE f64 arithmetic and this order,
 *   x = old(i, j) + (((0 + U[i][0]·V[0][j]) + U[i][1]·V[1][j]) + … + U[i][rank-1]·V[rank-1][j])
 * with NaN replaced by 0, rounded to the dtype to nearest, ties to even (`encodeInto`): JavaScript
 * numbers are IEEE doubles with no fused multiply-add, so every machine computes the same bits.
 * The residual then corrects the elements where those bits differ from the new version's: a
 * record's element comes `gap` elements after the previous record's (after element -1 for the
 * first), and the new element's bits are the reconstruction's plus the difference, modulo
 * 2^(8·element size). A rounding that lands one unit off costs two bytes.
 */
export const LOWRANK_MAGIC = [0x6d, 0x6c, 0x76, 0x72] as const
export const LOWRANK_VERSION = 1
/** More factors than this cost more than they save on any tensor a checkpoint holds. */
export const MAX_RANK = 1024

export type LowRankDType = 'F32' | 'BF16' | 'F16'

const CODES: Record<LowRankDType, number> = { F32: 1, BF16: 2, F16: 3 }

export function isLowRankDType(dtype: DType | string): dtype is LowRankDType {
  return dtype === 'F32' || dtype === 'BF16' || dtype === 'F16'
}

/** Whether a delta's bytes are in this format (rather than the sparse one). */
export function isLowRankPatch(patch: Uint8Array): boolean {
  return LOWRANK_MAGIC.every((byte, i) => patch[i] === byte)
}

export interface LowRankShape {
  dtype: LowRankDType
  rows: number
  cols: number
  rank: number
}

/** The factors as read back: f32 values widened to f64, both row-major. */
export interface LowRankFactors extends LowRankShape {
  u: Float64Array
  v: Float64Array
}

export interface ParsedLowRank {
  factors: LowRankFactors
  residuals: number
  /** The residual records. */
  residual: Uint8Array
}

/** A cursor over bytes that reads checked varints. */
export interface VarintCursor {
  bytes: Uint8Array
  pos: number
}

export function readVarint(c: VarintCursor): number {
  let value = 0
  let scale = 1
  for (;;) {
    const byte = c.bytes[c.pos]
    if (byte === undefined) throw badDelta('it is truncated')
    c.pos++
    value += (byte & 127) * scale
    if (byte < 128) break
    scale *= 128
    if (scale > 2 ** 49) throw badDelta('a varint is longer than 8 bytes')
  }
  if (!Number.isSafeInteger(value)) throw badDelta('a varint exceeds 2^53')
  return value
}

function dtypeOfCode(code: number | undefined): LowRankDType {
  for (const [dtype, c] of Object.entries(CODES)) if (c === code) return dtype as LowRankDType
  throw badDelta(`low-rank dtype code ${String(code)} is not 1, 2 or 3`)
}

function f32s(bytes: Uint8Array, at: number, count: number): Float32Array {
  // A copy: a patch may sit at any offset of a larger buffer (and Buffer's slice is a view).
  const copy = new Uint8Array(4 * count)
  copy.set(bytes.subarray(at, at + 4 * count))
  return new Float32Array(copy.buffer)
}

/**
 * A low-rank patch's header (dtype, rows, cols, rank, residual count) from its first bytes (48
 * are always enough); undefined when they are not one.
 */
export function lowRankHeader(
  patch: Uint8Array,
): (LowRankShape & { residuals: number }) | undefined {
  if (!isLowRankPatch(patch) || patch[4] !== LOWRANK_VERSION) return undefined
  try {
    const dtype = dtypeOfCode(patch[5])
    const c: VarintCursor = { bytes: patch, pos: 6 }
    const rows = readVarint(c)
    const cols = readVarint(c)
    const rank = readVarint(c)
    return { dtype, rows, cols, rank, residuals: readVarint(c) }
  } catch {
    return undefined
  }
}

/** Reads and checks a low-rank patch's header and factors. */
export function parseLowRank(patch: Uint8Array): ParsedLowRank {
  if (!isLowRankPatch(patch)) throw badDelta('it does not start with "mlvr"')
  if (patch[4] !== LOWRANK_VERSION) {
    throw badDelta(`low-rank version ${patch[4]} is not supported (this mlvc reads version 1)`)
  }
  const dtype = dtypeOfCode(patch[5])
  const c: VarintCursor = { bytes: patch, pos: 6 }
  const rows = readVarint(c)
  const cols = readVarint(c)
  const rank = readVarint(c)
  const residuals = readVarint(c)
  if (rank < 1 || rank > MAX_RANK || rank > Math.min(rows, cols)) {
    throw badDelta(`rank ${rank} does not fit a ${rows} × ${cols} tensor`)
  }
  const factorBytes = 4 * rank * (rows + cols)
  if (c.pos + factorBytes > patch.length) throw badDelta('it is truncated')
  const u = Float64Array.from(f32s(patch, c.pos, rows * rank))
  const v = Float64Array.from(f32s(patch, c.pos + 4 * rows * rank, rank * cols))
  const residual = patch.subarray(c.pos + factorBytes)
  return { factors: { dtype, rows, cols, rank, u, v }, residuals, residual }
}

/** Writes a low-rank patch: header, factors (f32 values) and residual records. */
export function formatLowRank(
  shape: LowRankShape,
  u: Float32Array,
  v: Float32Array,
  residual: { count: number; bytes: Uint8Array },
): Uint8Array {
  const head = [...LOWRANK_MAGIC, LOWRANK_VERSION, CODES[shape.dtype]]
  for (const value of [shape.rows, shape.cols, shape.rank, residual.count]) {
    let rest = value
    while (rest >= 128) {
      head.push((rest % 128) | 128)
      rest = Math.floor(rest / 128)
    }
    head.push(rest)
  }
  const out = new Uint8Array(head.length + 4 * (u.length + v.length) + residual.bytes.length)
  out.set(head)
  let at = head.length
  for (const f of [u, v]) {
    out.set(new Uint8Array(f.buffer, f.byteOffset, f.byteLength), at)
    at += f.byteLength
  }
  out.set(residual.bytes, at)
  return out
}
