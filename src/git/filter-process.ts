import { MlvcError } from '../core/index.ts'
import { writeFdSync } from './fd-io.ts'
import {
  createPacketReader,
  FLUSH,
  MAX_PAYLOAD,
  type PacketReader,
  readContent,
  readKeyValues,
  textPacket,
} from './pktline.ts'

/** What the protocol loop needs from the clean and smudge logic. */
export interface FilterHandlers {
  clean(path: string, content: AsyncIterable<Buffer>): Promise<Uint8Array>
  /**
   * Returns the smudged content, or 'delayed' (only when `canDelay`): git will ask again later with
   * empty content, once `availableBlobs` has listed the path.
   */
  smudge(
    path: string,
    content: AsyncIterable<Buffer>,
    canDelay: boolean,
  ): Promise<Uint8Array | 'delayed'>
  /** Paths of delayed smudges that are ready now (called when git asks; may fetch). */
  availableBlobs(): Promise<string[]>
  /** An error on one file; git reports the file as failed. The message goes to stderr. */
  report(path: string, err: unknown): void
  /** Git closed the pipe: the command is over. */
  finish(): Promise<void>
}

export interface FilterStreams {
  input: AsyncIterable<Buffer>
  /** fd 1 normally. */
  outputFd: number
}

async function drain(content: AsyncIterable<Buffer>): Promise<void> {
  for await (const _ of content);
}

function send(fd: number, packets: Buffer[]): void {
  writeFdSync(fd, packets.length === 1 ? (packets[0] as Buffer) : Buffer.concat(packets))
}

/** One reused buffer of framed packets: each byte of content is copied once on its way to git. */
const frame = Buffer.allocUnsafe(16 * (MAX_PAYLOAD + 4))

/** Sends content as pkt-lines, framed in 1 MiB batches. */
function sendContent(fd: number, data: Uint8Array): void {
  let pos = 0
  while (pos < data.length) {
    let used = 0
    while (pos < data.length && used + MAX_PAYLOAD + 4 <= frame.length) {
      const n = Math.min(MAX_PAYLOAD, data.length - pos)
      frame.write((n + 4).toString(16).padStart(4, '0'), used, 'latin1')
      frame.set(data.subarray(pos, pos + n), used + 4)
      used += n + 4
      pos += n
    }
    writeFdSync(fd, frame.subarray(0, used))
  }
}

async function handshake(reader: PacketReader, fd: number): Promise<Set<string>> {
  const hello = await readKeyValuesOrLines(reader)
  if (!hello.includes('git-filter-client') || !hello.includes('version=2')) {
    throw new MlvcError('GIT', `filter protocol: unexpected handshake (${hello.join(', ')})`)
  }
  send(fd, [textPacket('git-filter-server'), textPacket('version=2'), FLUSH])
  const offered = new Set(
    (await readKeyValuesOrLines(reader)).map((l) => l.replace(/^capability=/, '')),
  )
  const ours = ['clean', 'smudge', 'delay'].filter((c) => offered.has(c))
  send(fd, [...ours.map((c) => textPacket(`capability=${c}`)), FLUSH])
  return new Set(ours)
}

async function readKeyValuesOrLines(reader: PacketReader): Promise<string[]> {
  const lines: string[] = []
  for (;;) {
    const packet = await reader.next()
    if (packet === undefined)
      throw new MlvcError('GIT', 'filter protocol: git closed the pipe during the handshake')
    if (packet === 'flush') return lines
    lines.push(packet.toString('utf8').replace(/\n$/, ''))
  }
}

/**
 * Git's long-running filter protocol, version 2 (gitattributes(5), "Long Running Filter Process"):
 * one process per git command handles every clean and smudge, and may delay smudges to fetch
 * their data in batches.
 */
export async function runFilterProtocol(
  streams: FilterStreams,
  handlers: FilterHandlers,
): Promise<void> {
  const reader = createPacketReader(streams.input)
  const fd = streams.outputFd
  await handshake(reader, fd)
  for (;;) {
    const request = await readKeyValues(reader)
    if (request === undefined) break
    const command = request.get('command')
    const path = request.get('pathname') ?? ''
    if (command === 'list_available_blobs') {
      const paths = await handlers.availableBlobs()
      send(fd, [
        ...paths.map((p) => textPacket(`pathname=${p}`)),
        FLUSH,
        textPacket('status=success'),
        FLUSH,
      ])
      continue
    }
    const content = readContent(reader)
    try {
      let result: Uint8Array | 'delayed'
      if (command === 'clean') result = await handlers.clean(path, content)
      else if (command === 'smudge')
        result = await handlers.smudge(path, content, request.get('can-delay') === '1')
      else throw new MlvcError('GIT', `filter protocol: unknown command "${command}"`)
      await drain(content)
      if (result === 'delayed') {
        send(fd, [textPacket('status=delayed'), FLUSH])
      } else {
        send(fd, [textPacket('status=success'), FLUSH])
        sendContent(fd, result)
        send(fd, [FLUSH, FLUSH])
      }
    } catch (err) {
      await drain(content)
      handlers.report(path, err)
      send(fd, [textPacket('status=error'), FLUSH])
    }
  }
  await handlers.finish()
}
