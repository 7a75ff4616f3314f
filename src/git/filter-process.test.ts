import { closeSync, openSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { isMlvcError } from '../core/index.ts'
import { pseudoRandomBytes, tempDir } from '../test-helpers/index.ts'
import { type FilterHandlers, runFilterProtocol } from './filter-process.ts'
import { createPacketReader, encodePackets, FLUSH, MAX_PAYLOAD, textPacket } from './pktline.ts'

/**
 * Git's long-running filter protocol driven by scripted pkt-lines: what git would send is fed in
 * as a stream (cut at awkward places), mlvc's answers are written to a file and read back as
 * packets. The handlers are fakes that record what they are asked.
 */
const root = tempDir('mlvc-filter-process')
let runs = 0

const HELLO = [
  textPacket('git-filter-client'),
  textPacket('version=2'),
  FLUSH,
  textPacket('capability=clean'),
  textPacket('capability=smudge'),
  textPacket('capability=delay'),
  FLUSH,
]
const SERVER_HELLO = ['git-filter-server', 'version=2', '0000']
const CAPABILITIES = ['capability=clean', 'capability=smudge', 'capability=delay', '0000']

/** A request: key=value lines, a flush, the content as packets, a flush. */
function request(keys: string[], content: Uint8Array = Buffer.alloc(0)): Buffer[] {
  return [...keys.map(textPacket), FLUSH, ...encodePackets(content), FLUSH]
}

/** The bytes in pieces of 1, 7, 4093… bytes: packets straddle reads as they do on a pipe. */
async function* cut(data: Buffer): AsyncIterable<Buffer> {
  const sizes = [1, 7, 4093, 3, 70_001]
  let pos = 0
  for (let i = 0; pos < data.length; i++) {
    const n = sizes[i % sizes.length] as number
    yield data.subarray(pos, pos + n)
    pos += n
  }
}

interface Calls {
  log: string[]
  reported: Array<{ path: string; message: string }>
  finished: number
}

type Fake = Partial<FilterHandlers>

async function collect(content: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const p of content) parts.push(Buffer.from(p))
  return Buffer.concat(parts)
}

/** Handlers that record their calls; clean and smudge answer with the content they got. */
function fakeHandlers(calls: Calls, fake: Fake): FilterHandlers {
  return {
    async clean(path, content) {
      calls.log.push(`clean ${path}`)
      return fake.clean ? fake.clean(path, content) : collect(content)
    },
    async smudge(path, content, canDelay) {
      calls.log.push(`smudge ${path} canDelay=${canDelay}`)
      return fake.smudge ? fake.smudge(path, content, canDelay) : collect(content)
    },
    async availableBlobs() {
      calls.log.push('availableBlobs')
      return fake.availableBlobs ? fake.availableBlobs() : []
    },
    report(path, err) {
      calls.reported.push({ path, message: err instanceof Error ? err.message : String(err) })
    },
    async finish() {
      calls.finished++
    },
  }
}

interface Run extends Calls {
  /** mlvc's answer, one string per packet ('0000' for a flush); content packets as latin1. */
  out: string[]
  /** What runFilterProtocol threw, if it did. */
  error: unknown
}

async function run(script: Buffer[], fake: Fake = {}): Promise<Run> {
  const file = join(root, `out-${runs++}`)
  const fd = openSync(file, 'w+')
  const calls: Calls = { log: [], reported: [], finished: 0 }
  let error: unknown
  try {
    await runFilterProtocol(
      { input: cut(Buffer.concat(script)), outputFd: fd },
      fakeHandlers(calls, fake),
    )
  } catch (err) {
    error = err
  } finally {
    closeSync(fd)
  }
  const out: string[] = []
  const reader = createPacketReader(cut(readFileSync(file)))
  for (let p = await reader.next(); p !== undefined; p = await reader.next())
    out.push(p === 'flush' ? '0000' : p.toString('latin1').replace(/\n$/, ''))
  return { ...calls, out, error }
}

function protocolError(err: unknown): string {
  if (!isMlvcError(err, 'GIT')) throw new Error(`expected a GIT error, got ${String(err)}`)
  return err.message
}

describe('handshake', () => {
  it('answers version 2 with the capabilities git offers that mlvc has, then ends at EOF', async () => {
    const script = [
      textPacket('git-filter-client'),
      textPacket('version=2'),
      FLUSH,
      textPacket('capability=clean'),
      textPacket('capability=delay'),
      textPacket('capability=sparkle'),
      FLUSH,
    ]
    const r = await run(script)
    expect(r.error).toBeUndefined()
    expect(r.out).toEqual([...SERVER_HELLO, 'capability=clean', 'capability=delay', '0000'])
    expect(r.finished).toBe(1)
  })

  it('refuses a client that is not a version 2 git filter client, answering nothing', async () => {
    const r = await run([textPacket('git-filter-client'), textPacket('version=3'), FLUSH])
    expect(protocolError(r.error)).toBe(
      'filter protocol: unexpected handshake (git-filter-client, version=3)',
    )
    expect(r.out).toEqual([])
    expect(r.finished).toBe(0)
  })

  it('git closing the pipe during the handshake is a protocol error', async () => {
    const r = await run([textPacket('git-filter-client'), textPacket('version=2'), FLUSH])
    expect(protocolError(r.error)).toBe('filter protocol: git closed the pipe during the handshake')
    expect(r.out).toEqual(SERVER_HELLO)
  })
})

describe('clean and smudge requests', () => {
  it('passes content of many packets to the handler and frames the answer in packets', async () => {
    // More than the 16 packets mlvc frames per write, so the answer takes several writes.
    const data = pseudoRandomBytes(17 * MAX_PAYLOAD + 100, 1)
    const r = await run([
      ...HELLO,
      ...request(['command=clean', 'pathname=dir/model bin.safetensors'], data),
      ...request(['command=smudge', 'pathname=b.bin'], Buffer.from('stub\n')),
    ])
    expect(r.error).toBeUndefined()
    expect(r.log).toEqual(['clean dir/model bin.safetensors', 'smudge b.bin canDelay=false'])
    const answer = r.out.slice(SERVER_HELLO.length + CAPABILITIES.length)
    // status, then content packets (at most MAX_PAYLOAD each), a flush, and an empty status list.
    expect(answer.slice(0, 2)).toEqual(['status=success', '0000'])
    const packets = answer.slice(2, 20)
    expect(packets.map((p) => p.length)).toEqual([...Array(17).fill(MAX_PAYLOAD), 100])
    expect(Buffer.from(packets.join(''), 'latin1').equals(data)).toBe(true)
    expect(answer.slice(20)).toEqual([
      '0000',
      '0000',
      'status=success',
      '0000',
      'stub',
      '0000',
      '0000',
    ])
    expect(r.finished).toBe(1)
  })

  it('sends empty content as no packets at all', async () => {
    const r = await run([...HELLO, ...request(['command=clean', 'pathname=empty'])])
    expect(r.out.slice(SERVER_HELLO.length + CAPABILITIES.length)).toEqual([
      'status=success',
      '0000',
      '0000',
      '0000',
    ])
  })

  it('can-delay=1: a delayed smudge, list_available_blobs, then the content', async () => {
    let asked = 0
    const r = await run(
      [
        ...HELLO,
        ...request(['command=smudge', 'pathname=a.bin', 'can-delay=1'], Buffer.from('stub a')),
        ...request(['command=smudge', 'pathname=b.bin', 'can-delay=1'], Buffer.from('stub b')),
        textPacket('command=list_available_blobs'),
        FLUSH,
        ...request(['command=smudge', 'pathname=a.bin', 'can-delay=1']),
        ...request(['command=smudge', 'pathname=b.bin', 'can-delay=1']),
      ],
      {
        async smudge(path, content) {
          const got = await collect(content)
          if (asked++ < 2) return 'delayed'
          expect(got.length).toBe(0)
          return Buffer.from(`content of ${path}`)
        },
        availableBlobs: async () => ['a.bin', 'b.bin'],
      },
    )
    expect(r.error).toBeUndefined()
    expect(r.log).toEqual([
      'smudge a.bin canDelay=true',
      'smudge b.bin canDelay=true',
      'availableBlobs',
      'smudge a.bin canDelay=true',
      'smudge b.bin canDelay=true',
    ])
    expect(r.out.slice(SERVER_HELLO.length + CAPABILITIES.length)).toEqual([
      'status=delayed',
      '0000',
      'status=delayed',
      '0000',
      'pathname=a.bin',
      'pathname=b.bin',
      '0000',
      'status=success',
      '0000',
      'status=success',
      '0000',
      'content of a.bin',
      '0000',
      '0000',
      'status=success',
      '0000',
      'content of b.bin',
      '0000',
      '0000',
    ])
  })
})

describe('errors', () => {
  it('an error on one file is status=error for that file only; the process stays in step', async () => {
    const data = pseudoRandomBytes(2 * MAX_PAYLOAD, 2)
    const r = await run(
      [
        ...HELLO,
        // The handler fails before reading the content: it must still be consumed.
        ...request(['command=clean', 'pathname=bad.bin'], data),
        // The handler stops after one packet: the rest must still be consumed.
        ...request(['command=clean', 'pathname=half.bin'], data),
        ...request(['command=frobnicate', 'pathname=odd.bin'], data),
        ...request(['command=clean', 'pathname=good.bin'], Buffer.from('fine')),
      ],
      {
        async clean(path, content) {
          if (path === 'bad.bin') throw new Error('bad.bin: cannot read it')
          if (path === 'half.bin') {
            for await (const first of content) return Buffer.from(first.subarray(0, 4))
          }
          return collect(content)
        },
      },
    )
    expect(r.error).toBeUndefined()
    expect(r.reported).toEqual([
      { path: 'bad.bin', message: 'bad.bin: cannot read it' },
      { path: 'odd.bin', message: 'filter protocol: unknown command "frobnicate"' },
    ])
    expect(r.out.slice(SERVER_HELLO.length + CAPABILITIES.length)).toEqual([
      'status=error',
      '0000',
      'status=success',
      '0000',
      data.subarray(0, 4).toString('latin1'),
      '0000',
      '0000',
      'status=error',
      '0000',
      'status=success',
      '0000',
      'fine',
      '0000',
      '0000',
    ])
    expect(r.finished).toBe(1)
  })

  it('a malformed packet stops the process with a protocol error, without finishing', async () => {
    const bad = await run([...HELLO, Buffer.from('zzzzcommand=clean\n')])
    expect(protocolError(bad.error)).toBe('filter protocol: bad packet length "zzzz"')
    expect(bad.finished).toBe(0)
    const short = await run([...HELLO, Buffer.from('0003')])
    expect(protocolError(short.error)).toBe('filter protocol: bad packet length "0003"')
    const noValue = await run([...HELLO, textPacket('command clean'), FLUSH])
    expect(protocolError(noValue.error)).toBe(
      'filter protocol: expected key=value, got "command clean"',
    )
  })

  it('EOF inside a request or its content is a protocol error; the file is not answered', async () => {
    const data = pseudoRandomBytes(1000, 3)
    const inContent = await run([
      ...HELLO,
      textPacket('command=clean'),
      textPacket('pathname=a.bin'),
      FLUSH,
      ...encodePackets(data),
    ])
    expect(protocolError(inContent.error)).toBe('filter protocol: stream ended inside content')
    expect(inContent.out.slice(SERVER_HELLO.length + CAPABILITIES.length)).toEqual([])
    expect(inContent.finished).toBe(0)

    const inPacket = await run([...HELLO, textPacket('command=clean').subarray(0, 8)])
    expect(protocolError(inPacket.error)).toBe('filter protocol: stream ended inside a packet')
  })
})
