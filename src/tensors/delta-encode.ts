import { MlvcError } from '../core/index.ts'
import { type DType, dtypeSize } from '../formats/index.ts'
import { assertLittleEndian, checkAborted, tensorZip, zipBlocks } from './blocks.ts'
import { firstChange, firstSame, wordsOf } from './changes.ts'
import {
  type ByteWriter,
  createWriter,
  drain,
  headerLength,
  MAX_RUN,
  putHeader,
  putVarint,
  reserve,
  varintLength,
} from './delta-format.ts'

export interface DeltaOptions {
  dtype: DType
  /** Elements in the tensor (the product of its shape). */
  elements: number
  /**
   * Give up once the encoding would take this many bytes or more; `exceeded` then turns true and
   * nothing more is produced. Typically half the tensor's size: a bigger delta is not worth it.
   * @default Infinity
   */
  maxBytes?: number | undefined
}

export interface DeltaEncoder {
  /**
   * Encodes the next blocks of the old and new tensor (the same length, whole elements); returns
   * the bytes to append to the delta (a fresh array, possibly empty).
   */
  update(old: Uint8Array, next: Uint8Array): Uint8Array
  /** Ends the delta and returns its last bytes. Throws USAGE if elements are missing. */
  finish(): Uint8Array
  /** Bytes produced so far (all of them after finish). */
  readonly size: number
  /** Changed elements so far. */
  readonly changed: number
  /** True once the size reached maxBytes: the delta is abandoned. */
  readonly exceeded: boolean
}

interface RunState {
  size: number
  elements: number
  /** Elements consumed. */
  pos: number
  lastEnd: number
  runStart: number
  runLength: number
  changed: number
  bytes: number
  /** Null when only measuring. */
  out: ByteWriter | null
  values: Uint8Array
}

function closeRun(s: RunState): void {
  const run = s.runLength
  const token = 1 + 2 * (s.runStart - s.lastEnd) + (run > 1 ? 1 : 0)
  s.bytes += varintLength(token) + (run > 1 ? varintLength(run - 2) : 0) + run * s.size
  if (s.out) {
    reserve(s.out, 20 + run * s.size)
    putVarint(s.out, token)
    if (run > 1) putVarint(s.out, run - 2)
    s.out.buf.set(s.values.subarray(0, run * s.size), s.out.length)
    s.out.length += run * s.size
  }
  s.changed += run
  s.lastEnd = s.runStart + run
  s.runStart = -1
  s.runLength = 0
}

function scanBlocks(s: RunState, old: Uint8Array, next: Uint8Array): void {
  const size = s.size
  const m = old.length / size
  if (next.length !== old.length || !Number.isInteger(m)) {
    throw new MlvcError('USAGE', 'delta blocks must have the same length, in whole elements')
  }
  if (s.pos + m > s.elements) {
    throw new MlvcError('USAGE', `more than the ${s.elements} elements declared for the delta`)
  }
  const wide = size === 8
  const a = wordsOf(old, size, 0)
  const b = wordsOf(next, size, 1)
  let i = 0
  while (i < m) {
    if (s.runStart < 0) {
      const j = firstChange(a, b, wide, i, m)
      if (j === m) break
      s.runStart = s.pos + j
      i = j
    }
    const k = firstSame(a, b, wide, i, Math.min(m, i + MAX_RUN - s.runLength))
    if (s.out) s.values.set(next.subarray(i * size, k * size), s.runLength * size)
    s.runLength += k - i
    i = k
    if (k < m || s.runLength === MAX_RUN) closeRun(s)
  }
  s.pos += m
}

function finishRuns(s: RunState): void {
  if (s.pos !== s.elements) {
    throw new MlvcError(
      'USAGE',
      `the delta got ${s.pos} of the ${s.elements} elements declared for it`,
    )
  }
  if (s.runStart >= 0) closeRun(s)
  s.bytes += 1 + varintLength(s.changed)
  if (s.out) {
    reserve(s.out, 11)
    putVarint(s.out, 0)
    putVarint(s.out, s.changed)
  }
}

function createRunState(options: DeltaOptions, write: boolean): RunState {
  assertLittleEndian()
  const size = dtypeSize(options.dtype)
  if (!Number.isSafeInteger(options.elements) || options.elements < 0) {
    throw new MlvcError('USAGE', `element count ${options.elements} is not a count`)
  }
  return {
    size,
    elements: options.elements,
    pos: 0,
    lastEnd: 0,
    runStart: -1,
    runLength: 0,
    changed: 0,
    bytes: headerLength(options.elements),
    out: write ? createWriter() : null,
    values: new Uint8Array(write ? MAX_RUN * size : 0),
  }
}

/** Streams the delta from an old to a new version of one tensor, block by block. */
export function createDeltaEncoder(options: DeltaOptions): DeltaEncoder {
  const s = createRunState(options, true)
  const out = s.out as ByteWriter
  const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY
  let exceeded = s.bytes >= maxBytes
  let started = false
  function start(): void {
    if (!started) putHeader(out, s.size, s.elements)
    started = true
  }
  return {
    update(old, next) {
      if (exceeded) return new Uint8Array(0)
      start()
      scanBlocks(s, old, next)
      exceeded = s.bytes >= maxBytes
      return exceeded ? new Uint8Array(0) : drain(out)
    },
    finish() {
      if (exceeded) return new Uint8Array(0)
      start()
      finishRuns(s)
      exceeded = s.bytes >= maxBytes
      return exceeded ? new Uint8Array(0) : drain(out)
    },
    get size() {
      return s.bytes
    },
    get changed() {
      return s.changed
    },
    get exceeded() {
      return exceeded
    },
  }
}

/** Counts what a delta would take without writing it (for diff statistics). */
export interface DeltaMeter {
  update(old: Uint8Array, next: Uint8Array): void
  /** The exact size of the delta and the number of changed elements. */
  finish(): { bytes: number; changed: number }
}

export function createDeltaMeter(options: DeltaOptions): DeltaMeter {
  const s = createRunState(options, false)
  return {
    update: (old, next) => scanBlocks(s, old, next),
    finish() {
      finishRuns(s)
      return { bytes: s.bytes, changed: s.changed }
    },
  }
}

/**
 * The whole delta of two tensors held in memory, or undefined if it would take maxBytes or more.
 */
export function deltaOf(
  options: DeltaOptions,
  old: Uint8Array,
  next: Uint8Array,
): Uint8Array | undefined {
  const encoder = createDeltaEncoder(options)
  const first = encoder.update(old, next)
  const last = encoder.finish()
  if (encoder.exceeded) return undefined
  const out = new Uint8Array(first.length + last.length)
  out.set(first)
  out.set(last, first.length)
  return out
}

export interface EncodeDeltaOptions extends DeltaOptions {
  signal?: AbortSignal | undefined
  /** Names of the two versions for errors. @default ['old', 'new'] */
  names?: readonly [string, string]
}

/**
 * Streams the delta of two streamed tensors, in bounded memory. With maxBytes set, it ends early
 * once the delta would reach that size and returns false (what it yielded is then useless); it
 * returns true when the delta is complete. Use it as `const complete = yield* encodeDelta(...)`, or
 * decide beforehand from diff statistics (their deltaBytes is this delta's exact size).
 */
export async function* encodeDelta(
  old: AsyncIterable<Uint8Array>,
  next: AsyncIterable<Uint8Array>,
  options: EncodeDeltaOptions,
): AsyncGenerator<Uint8Array, boolean> {
  const encoder = createDeltaEncoder(options)
  const names = options.names ?? ['old', 'new']
  for await (const [a, b] of zipBlocks([old, next], tensorZip({ ...options, names }))) {
    checkAborted(options.signal)
    const piece = encoder.update(a, b)
    if (encoder.exceeded) return false
    if (piece.length > 0) yield piece
  }
  const last = encoder.finish()
  if (encoder.exceeded) return false
  yield last
  return true
}
