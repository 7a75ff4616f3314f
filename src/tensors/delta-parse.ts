import { MlvcError, must } from '../core/index.ts'
import { DELTA_MAGIC, DELTA_VERSION, HEADER_FIXED } from './delta-format.ts'

export function badDelta(why: string): MlvcError {
  return new MlvcError('BAD_DELTA', `malformed tensor delta: ${why}`, {
    hint: 'the delta object is damaged or is not a delta of this tensor; run mlvc fsck',
  })
}

/** What next() found. */
export type ParseStatus = 'more' | 'patch' | 'end'

/**
 * A push parser of the delta format that turns delta bytes into patches: "write these bytes at
 * this byte offset of the tensor". Pieces may split the delta anywhere. Every length and index is
 * checked before use, so a malformed delta ends in a BAD_DELTA error, never in a wrong write.
 */
export interface DeltaParser {
  /** Gives the parser the next piece of the delta; only once next() has returned 'more'. */
  push(piece: Uint8Array): void
  /**
   * 'patch': patchOffset and patch describe the next write (valid until the next call);
   * 'more': the parser needs another piece; 'end': the trailer has been read and checked.
   */
  next(): ParseStatus
  /** Signals that no more pieces will come; throws BAD_DELTA if the delta is incomplete. */
  close(): void
  readonly headerDone: boolean
  readonly elementSize: number
  readonly elements: number
  readonly patchOffset: number
  readonly patch: Uint8Array
}

type Phase = 'header' | 'count' | 'token' | 'run' | 'values' | 'changed' | 'end'

export function createDeltaParser(): DeltaParser {
  let piece: Uint8Array = new Uint8Array(0)
  let pos = 0
  let phase: Phase = 'header'
  const head = new Uint8Array(HEADER_FIXED)
  let headLength = 0
  let size = 0
  let elements = 0
  // The varint being read.
  let value = 0
  let scale = 1
  // The record being read, in elements, and how many of its value bytes are still to come.
  let lastEnd = 0
  let runStart = 0
  let gap = 0
  let multi = false
  let valuesLeft = 0
  let valueAt = 0
  let changed = 0
  let patchOffset = 0
  let patch: Uint8Array = new Uint8Array(0)

  /** Reads a varint; false if the piece ran out first (the partial value is kept). */
  function varint(): boolean {
    for (let byte = piece[pos]; byte !== undefined; byte = piece[pos]) {
      pos++
      value += (byte & 127) * scale
      scale *= 128
      if (byte < 128) return true
      if (scale > 2 ** 49) throw badDelta('a varint is longer than 8 bytes')
    }
    return false
  }

  function take(): number {
    const v = value
    if (!Number.isSafeInteger(v)) throw badDelta('a varint exceeds 2^53')
    value = 0
    scale = 1
    return v
  }

  function readHeader(): boolean {
    const n = Math.min(HEADER_FIXED - headLength, piece.length - pos)
    head.set(piece.subarray(pos, pos + n), headLength)
    headLength += n
    pos += n
    if (headLength < HEADER_FIXED) return false
    if (DELTA_MAGIC.some((byte, i) => head[i] !== byte))
      throw badDelta('it does not start with "mlvd"')
    if (head[4] !== DELTA_VERSION) {
      throw badDelta(
        `version ${head[4]} is not supported (this mlvc reads version ${DELTA_VERSION})`,
      )
    }
    size = must(head[5], 'a delta header byte')
    if (size !== 1 && size !== 2 && size !== 4 && size !== 8) {
      throw badDelta(`element size ${size} is not 1, 2, 4 or 8`)
    }
    return true
  }

  function startRecord(run: number): void {
    runStart = lastEnd + gap
    if (runStart + run > elements) {
      throw badDelta(`a record writes elements ${runStart}..${runStart + run - 1} of ${elements}`)
    }
    lastEnd = runStart + run
    changed += run
    valuesLeft = run * size
    valueAt = runStart * size
  }

  function step(): ParseStatus | undefined {
    switch (phase) {
      case 'header':
        if (!readHeader()) return 'more'
        phase = 'count'
        return undefined
      case 'count':
        if (!varint()) return 'more'
        elements = take()
        phase = 'token'
        return undefined
      case 'token': {
        if (!varint()) return 'more'
        const token = take()
        if (token === 0) {
          phase = 'changed'
          return undefined
        }
        multi = (token - 1) % 2 === 1
        gap = (token - 1 - (multi ? 1 : 0)) / 2
        if (multi) phase = 'run'
        else {
          startRecord(1)
          phase = 'values'
        }
        return undefined
      }
      case 'run':
        if (!varint()) return 'more'
        startRecord(take() + 2)
        phase = 'values'
        return undefined
      case 'values': {
        if (pos === piece.length) return 'more'
        const n = Math.min(valuesLeft, piece.length - pos)
        patch = piece.subarray(pos, pos + n)
        patchOffset = valueAt
        pos += n
        valueAt += n
        valuesLeft -= n
        if (valuesLeft === 0) phase = 'token'
        return 'patch'
      }
      case 'changed':
        if (!varint()) return 'more'
        if (take() !== changed) throw badDelta('the trailer does not match the records')
        phase = 'end'
        return undefined
      case 'end':
        if (pos < piece.length) throw badDelta('bytes follow its trailer')
        return 'end'
    }
  }

  return {
    push(next) {
      if (pos < piece.length) throw new MlvcError('USAGE', 'push() before the piece was used up')
      piece = next
      pos = 0
    },
    next() {
      for (;;) {
        const status = step()
        if (status) return status
      }
    },
    close() {
      if (phase !== 'end') throw badDelta('it is truncated')
    },
    get headerDone() {
      return phase !== 'header' && phase !== 'count'
    },
    get elementSize() {
      return size
    },
    get elements() {
      return elements
    },
    get patchOffset() {
      return patchOffset
    },
    get patch() {
      return patch
    },
  }
}
