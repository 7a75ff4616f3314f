/** Where blocks go: writes `bytes` at `position` (a file handle's write, in practice). */
export type BlockSink = (bytes: Uint8Array, position: number) => Promise<unknown>

/**
 * Writes blocks one after another, each write overlapping the making of the next block. Blocks
 * made in buffer() are written from that memory, so it hands out one of two buffers, never the one
 * a write still in flight reads; blocks from elsewhere are written as they are.
 */
export interface BlockWriter {
  /** Bytes written or being written. */
  readonly position: number
  /** A buffer to make the next block in (blockBytes long). */
  buffer(): Uint8Array
  /** Waits for the previous write, then starts writing this block. */
  write(bytes: Uint8Array): Promise<void>
  /** Waits for the last write. */
  flush(): Promise<void>
}

export function createBlockWriter(sink: BlockSink, blockBytes: number): BlockWriter {
  const buffers = [new Uint8Array(blockBytes), new Uint8Array(blockBytes)] as const
  let writing: Promise<unknown> = Promise.resolve()
  let busy: ArrayBufferLike | undefined
  let position = 0
  return {
    get position() {
      return position
    },
    buffer() {
      return buffers[0].buffer === busy ? buffers[1] : buffers[0]
    },
    async write(bytes) {
      await writing
      busy = bytes.buffer
      writing = sink(bytes, position)
      position += bytes.length
    },
    async flush() {
      await writing
    },
  }
}
