import { fc, test as propTest } from '@fast-check/vitest'
import { expect, test } from 'vitest'
import {
  createPacketReader,
  encodePackets,
  FLUSH,
  MAX_PAYLOAD,
  readContent,
  readKeyValues,
  textPacket,
} from './pktline.ts'

async function* pieces(data: Buffer, sizes: number[]): AsyncIterable<Buffer> {
  let pos = 0
  let i = 0
  while (pos < data.length) {
    const n = Math.max(1, sizes[i++ % Math.max(1, sizes.length)] ?? data.length)
    yield data.subarray(pos, pos + n)
    pos += n
  }
}

propTest.prop(
  [
    fc.uint8Array({ maxLength: 200_000 }),
    fc.array(fc.integer({ min: 1, max: 70_000 }), { maxLength: 8 }),
  ],
  {
    numRuns: 40,
  },
)('content survives framing, whatever the read sizes', async (data, sizes) => {
  const stream = Buffer.concat([textPacket('command=clean'), FLUSH, ...encodePackets(data), FLUSH])
  const reader = createPacketReader(pieces(stream, sizes))
  expect(await readKeyValues(reader)).toEqual(new Map([['command', 'clean']]))
  const out: Buffer[] = []
  for await (const p of readContent(reader)) {
    expect(p.length).toBeGreaterThan(0)
    expect(p.length).toBeLessThanOrEqual(MAX_PAYLOAD)
    out.push(Buffer.from(p))
  }
  expect(Buffer.concat(out).equals(Buffer.from(data))).toBe(true)
  expect(await reader.next()).toBeUndefined()
})

test('golden framing', () => {
  expect(textPacket('version=2').toString()).toBe('000eversion=2\n')
  expect(Buffer.concat(encodePackets(Buffer.from('abc'))).toString()).toBe('0007abc')
  expect(encodePackets(Buffer.alloc(0))).toEqual([])
})

test('garbage is a protocol error, not a hang', async () => {
  const reader = createPacketReader(pieces(Buffer.from('zzzzhello'), [100]))
  await expect(reader.next()).rejects.toThrow(/bad packet length "zzzz"/)
  const truncated = createPacketReader(pieces(Buffer.from('0010abc'), [100]))
  await expect(truncated.next()).rejects.toThrow(/stream ended inside a packet/)
})

propTest.prop(
  [
    fc.uint8Array({ minLength: 100_000, maxLength: 300_000 }),
    fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 8 }),
  ],
  { numRuns: 20 },
)(
  'a packet stays intact while the next one is read, straddling reads included',
  async (data, sizes) => {
    const stream = Buffer.concat([...encodePackets(data), FLUSH])
    const reader = createPacketReader(pieces(stream, sizes))
    const out: Buffer[] = []
    let held: Buffer | undefined
    for await (const p of readContent(reader)) {
      // Copied one packet late: the reader joins straddling packets in reused memory.
      if (held) out.push(Buffer.from(held))
      held = p
    }
    if (held) out.push(Buffer.from(held))
    expect(Buffer.concat(out).equals(Buffer.from(data))).toBe(true)
  },
)
