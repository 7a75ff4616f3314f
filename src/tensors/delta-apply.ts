import { isMlvcError, MlvcError } from '../core/index.ts'
import { type DType, dtypeSize } from '../formats/index.ts'
import { checkAborted } from './blocks.ts'
import { badDelta, createDeltaParser, type DeltaParser } from './delta-parse.ts'

export interface ApplyDeltaOptions {
  /** When given, the delta's element size must be this dtype's. */
  dtype?: DType | undefined
  /** When given, the delta must be for this many elements. */
  elements?: number | undefined
  /** The tensor's name, for errors. */
  name?: string | undefined
  signal?: AbortSignal | undefined
}

/** Puts the tensor's name into a BAD_DELTA message. */
export function named(err: unknown, name: string | undefined): unknown {
  if (name === undefined || !isMlvcError(err, 'BAD_DELTA')) return err
  return new MlvcError('BAD_DELTA', `${name}: ${err.message}`, {
    ...(err.hint === undefined ? {} : { hint: err.hint }),
    cause: err,
  })
}

/** Writes the parser's patches into consecutive blocks of the tensor. */
interface Patcher {
  /**
   * Applies every patch that falls in `out`, which holds bytes [from, from + out.length) of the
   * tensor. Returns false when the parser needs another piece of the delta first; call again then.
   */
  apply(out: Uint8Array, from: number): boolean
  /** After the last block: true if the delta is fully read, false if it needs another piece. */
  end(total: number): boolean
}

function createPatcher(parser: DeltaParser, options: ApplyDeltaOptions): Patcher {
  let pending: Uint8Array | null = null
  let pendingAt = 0
  let checked = false
  let ended = false
  function check(): void {
    if (checked || !parser.headerDone) return
    checked = true
    if (options.dtype && dtypeSize(options.dtype) !== parser.elementSize) {
      throw badDelta(`it has ${parser.elementSize}-byte elements, not ${options.dtype}`)
    }
    if (options.elements !== undefined && options.elements !== parser.elements) {
      throw badDelta(`it is for ${parser.elements} elements, the tensor has ${options.elements}`)
    }
  }
  /** Loads the next patch; false if the parser needs more input. */
  function load(): boolean {
    const status = parser.next()
    check()
    if (status === 'more') return false
    if (status === 'end') ended = true
    else {
      pending = parser.patch
      pendingAt = parser.patchOffset
    }
    return true
  }
  function fits(to: number): boolean {
    const expected = parser.elements * parser.elementSize
    if (to > expected) {
      throw badDelta(`it is for a tensor of ${expected} bytes, the old version has more`)
    }
    return true
  }
  return {
    apply(out, from) {
      const to = from + out.length
      for (;;) {
        if (!pending) {
          if (ended) return fits(to)
          if (!load()) return false
          continue
        }
        if (pendingAt >= to) return fits(to)
        const n = Math.min(pending.length, to - pendingAt)
        out.set(n === pending.length ? pending : pending.subarray(0, n), pendingAt - from)
        if (n === pending.length) pending = null
        else {
          pending = pending.subarray(n)
          pendingAt += n
        }
      }
    },
    end(total) {
      while (!ended) {
        if (pending) throw badDelta('a record writes past the end of the tensor')
        if (!load()) return false
      }
      const expected = parser.elements * parser.elementSize
      if (total !== expected) {
        throw badDelta(`it is for a tensor of ${expected} bytes, the old version has ${total}`)
      }
      return true
    },
  }
}

/**
 * Rebuilds the new version of a tensor from its old version and a delta, both streamed; yields the
 * new bytes block by block (one block per old block). Bit-exact. A malformed delta, or one made for
 * another tensor, throws BAD_DELTA as soon as that shows; as with any stream, discard what was
 * yielded when it throws.
 */
export async function* applyDelta(
  old: AsyncIterable<Uint8Array>,
  delta: AsyncIterable<Uint8Array>,
  options: ApplyDeltaOptions = {},
): AsyncGenerator<Uint8Array> {
  const parser = createDeltaParser()
  const patcher = createPatcher(parser, options)
  const pieces = delta[Symbol.asyncIterator]()
  async function feed(): Promise<void> {
    const next = await pieces.next()
    if (next.done) {
      parser.close()
      throw badDelta('it is truncated')
    }
    parser.push(next.value)
  }
  try {
    let total = 0
    for await (const block of old) {
      checkAborted(options.signal)
      const out = block.slice()
      while (!patcher.apply(out, total)) await feed()
      total += out.length
      yield out
    }
    while (!patcher.end(total)) await feed()
    for (let next = await pieces.next(); !next.done; next = await pieces.next()) {
      if (next.value.length > 0) throw badDelta('bytes follow its trailer')
    }
  } catch (err) {
    throw named(err, options.name)
  } finally {
    await pieces.return?.()
  }
}

/** The new version of a tensor held in memory; see applyDelta. */
export function applyDeltaTo(
  old: Uint8Array,
  delta: Uint8Array,
  options: ApplyDeltaOptions = {},
): Uint8Array {
  const parser = createDeltaParser()
  const patcher = createPatcher(parser, options)
  parser.push(delta)
  const out = old.slice()
  try {
    if (!patcher.apply(out, 0) || !patcher.end(out.length)) throw badDelta('it is truncated')
  } catch (err) {
    throw named(err, options.name)
  }
  return out
}
