import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FaultProxy, startFaultProxy } from './fault-proxy.ts'

/** A server that reads each request's body and answers with `ANSWER` bytes, saying what it got. */
const ANSWER = 3000
let server: Server
let received = 0
let proxy: FaultProxy

beforeAll(async () => {
  server = createServer((req, res) => {
    req.on('data', (c: Buffer) => {
      received += c.length
    })
    req.on('end', () => res.end(Buffer.alloc(ANSWER, 7)))
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  proxy = await startFaultProxy(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
})
afterAll(async () => {
  await proxy?.close()
  await new Promise((done) => server?.close(done))
})

async function send(bytes: number): Promise<number> {
  const res = await fetch(`${proxy.endpoint}/k`, { method: 'PUT', body: Buffer.alloc(bytes, 1) })
  return (await res.arrayBuffer()).byteLength
}

describe('the proxy counts the body bytes that pass', () => {
  it('counts what the server received and what the client got back', async () => {
    received = 0
    proxy.requestBytes = 0
    proxy.responseBytes = 0
    expect(await send(1 << 20)).toBe(ANSWER)
    expect(await send(10)).toBe(ANSWER)
    expect(received).toBe((1 << 20) + 10)
    expect(proxy.requestBytes).toBe(received)
    expect(proxy.responseBytes).toBe(2 * ANSWER)
  })

  it('counts nothing forwarded for a fault it answers itself, and half of a truncated answer', async () => {
    received = 0
    proxy.requestBytes = 0
    proxy.responseBytes = 0
    proxy.rule = () => 'slowdown'
    await send(5000)
    expect(proxy.requestBytes).toBe(0)
    expect(received).toBe(0)
    proxy.rule = () => 'truncate'
    await expect(send(100)).rejects.toThrow()
    expect(proxy.requestBytes).toBe(100)
    expect(proxy.responseBytes).toBe(ANSWER / 2)
    proxy.rule = () => undefined
  })
})
