import { MlvcError } from '../core/index.ts'

/**
 * Git's pkt-line framing (Documentation/technical/protocol-common.txt): a 4-hex-digit length that
 * counts itself, then the payload; "0000" is a flush packet. Payloads are at most 65516 bytes, and
 * empty data packets ("0004") are never sent.
 */
export const MAX_PAYLOAD = 65516
export const FLUSH = Buffer.from('0000')

export type Packet = Buffer | 'flush'

/** Encodes data as pkt-lines (split at MAX_PAYLOAD), without a trailing flush. */
export function encodePackets(data: Uint8Array): Buffer[] {
  const out: Buffer[] = []
  for (let i = 0; i < data.length; i += MAX_PAYLOAD) {
    const piece = data.subarray(i, i + MAX_PAYLOAD)
    out.push(Buffer.from((piece.length + 4).toString(16).padStart(4, '0')), Buffer.from(piece))
  }
  return out
}

/** A text packet: "key=value\n". */
export function textPacket(text: string): Buffer {
  const payload = Buffer.from(`${text}\n`)
  return Buffer.concat([Buffer.from((payload.length + 4).toString(16).padStart(4, '0')), payload])
}

/**
 * Reads packets from a byte stream. Keeps at most one partial packet buffered; packets are handed
 * out as views into the received buffers (no copy) when they do not straddle two of them.
 */
export interface PacketReader {
  /** The next packet, or undefined at the end of the stream. */
  next(): Promise<Packet | undefined>
}

export function createPacketReader(stream: AsyncIterable<Buffer>): PacketReader {
  const iterator = stream[Symbol.asyncIterator]()
  let buffer: Buffer = Buffer.alloc(0)
  let ended = false
  // A packet that straddles two reads is joined in one of two reused buffers, in turn: a fresh
  // buffer per join costs a page fault per 4 KiB, and a pipe read (64 KiB) rarely holds a whole
  // 64 KiB packet. By the second join after, the consumer has copied every packet of the first.
  const joins: Buffer[] = [Buffer.alloc(0), Buffer.alloc(0)]
  let turn = 0

  function join(parts: readonly Buffer[], size: number): Buffer {
    let target = joins[turn] as Buffer
    if (target.length < size) {
      target = Buffer.allocUnsafeSlow(Math.max(size, 2 * (MAX_PAYLOAD + 4)))
      joins[turn] = target
    }
    turn = 1 - turn
    let at = 0
    for (const part of parts) at += part.copy(target, at)
    return target.subarray(0, size)
  }

  /** Reads until `needed` bytes are buffered (false if the stream ends first). */
  async function fill(needed: number): Promise<boolean> {
    if (buffer.length >= needed) return true
    const parts = buffer.length > 0 ? [buffer] : []
    let size = buffer.length
    let enough = true
    while (size < needed) {
      const next = ended ? undefined : await iterator.next()
      if (!next || next.done) {
        ended = true
        enough = false
        break
      }
      parts.push(next.value)
      size += next.value.length
    }
    buffer = parts.length === 1 ? (parts[0] as Buffer) : join(parts, size)
    return enough
  }

  return {
    async next() {
      if (!(await fill(4))) {
        if (buffer.length > 0)
          throw new MlvcError('GIT', 'filter protocol: stream ended inside a packet header')
        return undefined
      }
      const length = Number.parseInt(buffer.toString('latin1', 0, 4), 16)
      if (!Number.isInteger(length) || (length !== 0 && length < 4) || length > MAX_PAYLOAD + 4) {
        throw new MlvcError(
          'GIT',
          `filter protocol: bad packet length "${buffer.toString('latin1', 0, 4)}"`,
        )
      }
      if (length === 0) {
        buffer = buffer.subarray(4)
        return 'flush'
      }
      if (!(await fill(length)))
        throw new MlvcError('GIT', 'filter protocol: stream ended inside a packet')
      const payload = buffer.subarray(4, length)
      buffer = buffer.subarray(length)
      return payload
    },
  }
}

/** Reads "key=value" text packets up to a flush. */
export async function readKeyValues(
  reader: PacketReader,
): Promise<Map<string, string> | undefined> {
  const values = new Map<string, string>()
  for (;;) {
    const packet = await reader.next()
    if (packet === undefined) return values.size === 0 ? undefined : values
    if (packet === 'flush') return values
    const text = packet.toString('utf8').replace(/\n$/, '')
    const eq = text.indexOf('=')
    if (eq < 0) throw new MlvcError('GIT', `filter protocol: expected key=value, got "${text}"`)
    values.set(text.slice(0, eq), text.slice(eq + 1))
  }
}

/**
 * The data packets up to a flush, as an async iterable of payloads. Breaking out of a loop over it
 * does not end it (it has no `return`): iterating again continues where the loop stopped, so the
 * caller can always drain it up to the flush and stay in sync with git.
 */
export function readContent(reader: PacketReader): AsyncIterable<Buffer> {
  let done = false
  const iterator: AsyncIterator<Buffer> = {
    async next() {
      if (done) return { done: true, value: undefined }
      const packet = await reader.next()
      if (packet === undefined)
        throw new MlvcError('GIT', 'filter protocol: stream ended inside content')
      if (packet === 'flush') {
        done = true
        return { done: true, value: undefined }
      }
      return { done: false, value: packet }
    },
  }
  return { [Symbol.asyncIterator]: () => iterator }
}
