import { describe, expect, test } from 'vitest'
import { createBlockWriter } from './block-writer.ts'

describe('block writer', () => {
  test('never hands out the buffer a slow write still reads, across blocks made elsewhere', async () => {
    const written: number[] = []
    // A sink that reads the block only when its write completes, some time later.
    const sink = (bytes: Uint8Array, position: number) =>
      new Promise<void>((resolve) =>
        setTimeout(() => {
          written.push(position, ...bytes)
          resolve()
        }, 2),
      )
    const writer = createBlockWriter(sink, 2)
    const expected: number[] = []
    let value = 0
    for (let i = 0; i < 9; i++) {
      const block = i % 4 === 3 ? new Uint8Array(2) : writer.buffer()
      block.fill(++value)
      expected.push(writer.position, value, value)
      await writer.write(block)
    }
    await writer.flush()
    expect(written).toEqual(expected)
    expect(writer.position).toBe(18)
  })
})
