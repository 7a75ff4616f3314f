import { must } from '../core/index.ts'
import type { StridedView } from './strided.ts'
import { viewIndices, viewSpan } from './strided.ts'

/** Reads `length` bytes at `offset` of the buffer a view indexes (a fresh buffer the caller may modify). */
export type ReadAt = (offset: number, length: number) => Promise<Uint8Array>

/** Writes `data` at `offset` of the buffer a view indexes. */
export type WriteAt = (offset: number, data: Uint8Array) => Promise<void>

/**
 * Views whose touched span is at most this many bytes are read in one piece; larger ones window
 * by window, and a window that still spans more is read run by run. Memory stays bounded either
 * way; only pathological views (a huge transposed tensor) get slow.
 */
export const GATHER_SPAN = 64 << 20

export interface ViewIO {
  view: StridedView
  /** Bytes per element. */
  item: number
  /** Spans of at most this many bytes are read or updated in memory at once. @default GATHER_SPAN */
  spanLimit?: number
}

/**
 * Buffer indices of `count` consecutive view elements; `filter` limits work to indices in [from, to).
 * idx holds at least `count` of them: the per-element loops below read idx[i < count] and bytes
 * inside the buffers they were sized for unchecked (each says so: "in range").
 */
interface Window {
  idx: Float64Array
  count: number
  item: number
  filter?: [number, number]
}

/** A piece of the indexed buffer held in memory: its bytes from element `lo` on. */
interface Span {
  bytes: Uint8Array
  lo: number
}

function copyItems(from: Span, w: Window, out: Uint8Array): void {
  const { idx, count, item } = w
  const [min, max] = w.filter ?? [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY]
  // In range: i < count (see Window); from.bytes holds every element in [min, max).
  for (let i = 0; i < count; i++) {
    const index = idx[i] as number
    if (index < min || index >= max) continue
    const s = (index - from.lo) * item
    for (let k = 0; k < item; k++) out[i * item + k] = from.bytes[s + k] as number
  }
}

function placeItems(block: Uint8Array, w: Window, to: Span): void {
  const { idx, count, item } = w
  const [min, max] = w.filter ?? [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY]
  // In range: i < count (see Window); block holds count elements.
  for (let i = 0; i < count; i++) {
    const index = idx[i] as number
    if (index < min || index >= max) continue
    const d = (index - to.lo) * item
    for (let k = 0; k < item; k++) to.bytes[d + k] = block[i * item + k] as number
  }
}

/** Maximal runs [i, j) of consecutive buffer indices in a window. */
function* runs(w: Window): Generator<[number, number]> {
  for (let i = 0; i < w.count; ) {
    let j = i + 1
    // In range: 0 < j < count (see Window).
    while (j < w.count && w.idx[j] === (w.idx[j - 1] as number) + 1) j++
    yield [i, j]
    i = j
  }
}

/** Elements per window when a view's span is too large to hold: bounds idx (8 B each) and output. */
const WINDOW_ITEMS = 1 << 22

function bounds(w: Window): [number, number] {
  let lo = Number.POSITIVE_INFINITY
  let hi = -1
  // In range: i < count (see Window).
  for (let i = 0; i < w.count; i++) {
    const index = w.idx[i] as number
    lo = Math.min(lo, index)
    hi = Math.max(hi, index)
  }
  return [lo, hi]
}

/**
 * A piece of the span [first, first + items) to read or update. `run` is set when the piece is
 * exactly the window's elements [run[0], run[1]), in order; otherwise the piece may hold any of
 * them (or none), and callers match elements by index.
 */
interface Piece {
  first: number
  items: number
  run?: [number, number]
}

/**
 * The pieces of the window's span, at most `spanLimit` bytes each: the whole span when it fits,
 * the runs when the window has long ones (a slice of rows), otherwise chunks of the span, so that
 * even a transposed view costs a few sequential passes, not one read per element.
 */
function* pieces(w: Window, spanLimit: number): Generator<Piece> {
  const [lo, hi] = bounds(w)
  if ((hi - lo + 1) * w.item <= spanLimit) {
    yield { first: lo, items: hi - lo + 1 }
  } else if (hasLongRuns(w)) {
    for (const [i, j] of runs(w))
      yield { first: must(w.idx[i], 'a run start'), items: j - i, run: [i, j] }
  } else {
    const chunk = Math.max(1, Math.floor(spanLimit / w.item))
    for (let c = lo; c <= hi; c += chunk) yield { first: c, items: Math.min(chunk, hi - c + 1) }
  }
}

/** Whether runs average at least 64 elements, counted without materializing them. */
function hasLongRuns(w: Window): boolean {
  let count = 1
  // In range: 0 < i < count (see Window).
  for (let i = 1; i < w.count; i++) {
    if (w.idx[i] !== (w.idx[i - 1] as number) + 1 && ++count * 64 > w.count) return false
  }
  return true
}

async function gatherWindow(read: ReadAt, w: Window, spanLimit: number): Promise<Uint8Array> {
  const out = new Uint8Array(w.count * w.item)
  for (const p of pieces(w, spanLimit)) {
    const bytes = await read(p.first * w.item, p.items * w.item)
    if (p.run) out.set(bytes, p.run[0] * w.item)
    else copyItems({ bytes, lo: p.first }, { ...w, filter: [p.first, p.first + p.items] }, out)
  }
  return out
}

/** The view's elements in C order, `blockItems` per yielded block. */
export async function* gather(
  read: ReadAt,
  io: ViewIO & { blockItems: number },
): AsyncGenerator<Uint8Array> {
  const { view, item, blockItems, spanLimit = GATHER_SPAN } = io
  const numel = view.shape.reduce((a, b) => a * b, 1)
  if (numel === 0) return
  const [lo, hi] = viewSpan(view)
  if ((hi - lo + 1) * item <= spanLimit) {
    const whole = { bytes: await read(lo * item, (hi - lo + 1) * item), lo }
    const idx = new Float64Array(Math.min(blockItems, numel))
    for (let first = 0; first < numel; first += blockItems) {
      const w = { idx, count: Math.min(blockItems, numel - first), item }
      viewIndices(view, first, w.count, idx)
      const out = new Uint8Array(w.count * item)
      copyItems(whole, w, out)
      yield out
    }
    return
  }
  const windowItems = Math.max(blockItems, Math.floor(WINDOW_ITEMS / blockItems) * blockItems)
  const idx = new Float64Array(Math.min(windowItems, numel))
  for (let first = 0; first < numel; first += windowItems) {
    const w = { idx, count: Math.min(windowItems, numel - first), item }
    viewIndices(view, first, w.count, idx)
    const out = await gatherWindow(read, w, spanLimit)
    for (let at = 0; at < out.length; at += blockItems * item)
      yield out.slice(at, at + blockItems * item)
  }
}

/** Reverses the bytes of each item in place (big-endian ↔ little-endian). */
export function swapItems(block: Uint8Array, item: number): Uint8Array {
  const buf = Buffer.from(block.buffer, block.byteOffset, block.length)
  if (item === 2) buf.swap16()
  else if (item === 4) buf.swap32()
  else if (item === 8) buf.swap64()
  return block
}

/** Regroups whole-item blocks into windows of `items` elements (the last may be shorter). */
/** Re-cuts a stream into blocks of exactly `bytes` (the last may be shorter). */
export async function* windows(
  blocks: AsyncIterable<Uint8Array>,
  bytes: number,
): AsyncGenerator<Uint8Array> {
  let buf = new Uint8Array(bytes)
  let fill = 0
  for await (const b of blocks) {
    for (let at = 0; at < b.length; ) {
      const n = Math.min(bytes - fill, b.length - at)
      buf.set(b.subarray(at, at + n), fill)
      fill += n
      at += n
      if (fill === bytes) {
        yield buf
        buf = new Uint8Array(bytes)
        fill = 0
      }
    }
  }
  if (fill > 0) yield buf.subarray(0, fill)
}

/**
 * The twin of gather: puts the view's elements, arriving in C order as whole-element blocks, into
 * their places. A small span is updated in memory and written once; a larger one window by
 * window, each piece of the span read, updated and written back. Where a view repeats an index
 * (stride 0), the last element written there wins.
 */
export async function scatter(
  io: ViewIO & { read: ReadAt; write: WriteAt },
  blocks: AsyncIterable<Uint8Array>,
): Promise<void> {
  const { view, item, read, write, spanLimit = GATHER_SPAN } = io
  const numel = view.shape.reduce((a, b) => a * b, 1)
  const [lo, hi] = numel > 0 ? viewSpan(view) : [0, -1]
  const whole =
    numel > 0 && (hi - lo + 1) * item <= spanLimit
      ? { bytes: await read(lo * item, (hi - lo + 1) * item), lo }
      : undefined
  let first = 0
  let idx = new Float64Array(0)
  for await (const block of whole ? blocks : windows(blocks, WINDOW_ITEMS * item)) {
    const count = block.length / item
    if (idx.length < count) idx = new Float64Array(count)
    viewIndices(view, first, count, idx)
    first += count
    const w = { idx, count, item }
    if (whole) {
      placeItems(block, w, whole)
      continue
    }
    for (const p of pieces(w, spanLimit)) {
      if (p.run) {
        await write(p.first * item, block.subarray(p.run[0] * item, p.run[1] * item))
        continue
      }
      const span = { bytes: await read(p.first * item, p.items * item), lo: p.first }
      placeItems(block, { ...w, filter: [p.first, p.first + p.items] }, span)
      await write(p.first * item, span.bytes)
    }
  }
  if (whole) await write(lo * item, whole.bytes)
}
