import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { ingestFile, materialize, openStore } from '../store/index.ts'
import {
  type Fault,
  type FaultProxy,
  type S3Server,
  startFaultProxy,
  startRgw,
  tempDir,
  writeRandomFile,
} from '../test-helpers/index.ts'
import { openRemote } from './config.ts'
import { pushObjects } from './push.ts'
import type { Remote } from './remote.ts'
import { s3Remote } from './s3.ts'
import { fetchObjects } from './transfer.ts'

const MiB = 1024 * 1024
const dir = tempDir('mlvc-s3')
let server: S3Server
let remote: Remote

beforeAll(async () => {
  server = await startRgw()
  process.env.AWS_ACCESS_KEY_ID = server.accessKeyId
  process.env.AWS_SECRET_ACCESS_KEY = server.secretAccessKey
  const s3 = new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
  })
  await s3.send(new CreateBucketCommand({ Bucket: 'mlvc-remote' }))
  remote = openRemote(
    { name: 'origin', url: 's3://mlvc-remote/team/models', endpoint: server.endpoint },
    dir,
  )
})
afterAll(() => server?.stop())

describe('an S3 remote on a real RADOS Gateway', () => {
  test('objects: put, head, get, ranges, list under the prefix, upload in parts, download, delete', async () => {
    await remote.put('a/one.txt', 'hello world')
    expect(await remote.head('a/one.txt')).toEqual({ key: 'a/one.txt', size: 11 })
    expect(await remote.head('a/none')).toBeUndefined()
    expect((await remote.get('a/one.txt')).toString()).toBe('hello world')
    expect((await remote.getRange('a/one.txt', 6, 5)).toString()).toBe('world')
    await expect(remote.getRange('a/one.txt', 6, 50)).rejects.toThrow(
      'remote origin: s3://mlvc-remote/team/models/a/one.txt has 11 bytes; wanted 50 at 6',
    )
    await expect(remote.get('a/none')).rejects.toMatchObject({ code: 'NOT_FOUND' })
    const big = join(dir, 'big.bin')
    const data = writeRandomFile(big, 40 * MiB + 123, 7)
    let sent = 0
    await remote.upload(big, 'b/big.bin', { onBytes: (n) => (sent += n) })
    expect(sent).toBe(data.length)
    const listed = []
    for await (const info of remote.list('b/')) listed.push(info)
    expect(listed).toEqual([{ key: 'b/big.bin', size: data.length, modified: expect.any(Date) }])
    const back = join(dir, 'back.bin')
    await remote.download('b/big.bin', back)
    expect(readFileSync(back).equals(data)).toBe(true)
    expect(
      (await remote.getRange('b/big.bin', 20 * MiB, 100)).equals(
        data.subarray(20 * MiB, 20 * MiB + 100),
      ),
    ).toBe(true)
    await remote.delete('b/big.bin')
    await remote.delete('b/big.bin')
    expect(await remote.head('b/big.bin')).toBeUndefined()
  })

  test('push and fetch of files through packs: byte-identical, nothing sent twice', async () => {
    const store = await openStore(join(dir, 'store-a'), { create: true })
    const files: Buffer[] = []
    const ids: string[] = []
    for (const [i, size] of [70 * MiB, 3 * MiB].entries()) {
      const path = join(dir, `f${i}`)
      files.push(writeRandomFile(path, size, i + 1))
      ids.push((await ingestFile(store, path)).id)
    }
    await store.commit()
    const pushed = await pushObjects(store, remote, ids)
    expect(pushed.packs).toBe(2)
    expect((await pushObjects(store, remote, ids)).uploadedObjects).toBe(0)
    const other = await openStore(join(dir, 'store-b'), { create: true })
    const fetched = await fetchObjects(other, remote, ids)
    expect(fetched.missing).toEqual([])
    for (const [i, id] of ids.entries()) {
      const out = join(dir, `out${i}`)
      await materialize(other, id, out)
      expect(readFileSync(out).equals(files[i] as Buffer)).toBe(true)
    }
    await Promise.all([store.close(), other.close()])
  })

  test('wrong credentials, a missing bucket: one clear line naming the remote', async () => {
    const missing = openRemote(
      { name: 'gone', url: 's3://no-such-bucket/x', endpoint: server.endpoint },
      dir,
    )
    await expect(missing.put('k', 'v')).rejects.toThrow(
      'remote gone: bucket no-such-bucket does not exist',
    )
    const saved = process.env.AWS_SECRET_ACCESS_KEY
    process.env.AWS_SECRET_ACCESS_KEY = 'wrong'
    try {
      const denied = openRemote(
        { name: 'denied', url: 's3://mlvc-remote/x', endpoint: server.endpoint },
        dir,
      )
      await expect(denied.get('k')).rejects.toThrow(
        /remote denied: reading s3:\/\/mlvc-remote\/x\/k: access denied \(SignatureDoesNotMatch\)/,
      )
    } finally {
      process.env.AWS_SECRET_ACCESS_KEY = saved
    }
  })
})

describe('faults between mlvc and the server (a fault-injecting proxy)', () => {
  let proxy: FaultProxy
  let flaky: Remote
  beforeAll(async () => {
    proxy = await startFaultProxy(server.endpoint)
    flaky = s3Remote(
      'flaky',
      's3://mlvc-remote/flaky',
      { bucket: 'mlvc-remote', prefix: 'flaky', endpoint: proxy.endpoint },
      { retry: { baseDelayMs: 5, maxDelayMs: 20, timeoutMs: 3000 } },
    )
    await flaky.put('obj', 'some bytes that matter')
  })
  afterAll(() => proxy?.close())
  afterEach(() => {
    proxy.rule = () => undefined
  })

  /** Applies `faults` to the next requests whose method matches, then forwards the rest. */
  function inject(method: string, ...faults: Fault[]) {
    const queue = [...faults]
    proxy.log.length = 0
    proxy.rule = (req) => (req.method === method ? queue.shift() : undefined)
  }

  test.each([
    ['reset', 'GET'],
    ['slowdown', 'GET'],
    ['error500', 'GET'],
    ['truncate', 'GET'],
    ['stall', 'GET'],
    ['reset', 'PUT'],
    ['slowdown', 'PUT'],
  ] as const)('%s on a %s is retried and the call succeeds', async (fault, method) => {
    inject(method, fault, fault)
    if (method === 'GET') {
      expect((await flaky.getRange('obj', 5, 5)).toString()).toBe('bytes')
    } else {
      await flaky.put('obj2', 'written through faults')
      expect((await flaky.get('obj2')).toString()).toBe('written through faults')
    }
    expect(proxy.log.filter((r) => r.method === method).map((r) => r.fault)).toEqual(
      [fault, fault, undefined, ...(method === 'PUT' ? [undefined] : [])].slice(
        0,
        method === 'PUT' ? 3 : 3,
      ),
    )
  })

  test('a server that keeps failing: the last error after the attempts, naming the remote', async () => {
    proxy.rule = () => 'error500'
    await expect(flaky.get('obj')).rejects.toThrow(
      'remote flaky: reading s3://mlvc-remote/flaky/obj: We encountered an internal error.',
    )
    proxy.rule = () => undefined
  })

  test('an HTML page instead of S3: a clear error, not retried forever', async () => {
    proxy.rule = () => 'html'
    const listing = (async () => {
      for await (const _ of flaky.list('')) {
      }
    })()
    await expect(listing).rejects.toThrow(
      "remote flaky: listing s3://mlvc-remote/flaky/: the server's answer is not an S3 listing",
    )
    proxy.rule = () => undefined
  })

  test('a push interrupted halfway resumes its multipart upload: parts already sent are not sent again', async () => {
    const store = await openStore(join(dir, 'store-e'), { create: true })
    const path = join(dir, 'e.bin')
    writeRandomFile(path, 60 * MiB, 11)
    const id = (await ingestFile(store, path)).id
    await store.commit()
    const remote = s3Remote(
      'resume',
      's3://mlvc-remote/resume',
      { bucket: 'mlvc-remote', prefix: 'resume', endpoint: proxy.endpoint },
      { partSize: 5 * MiB, partConcurrency: 2 },
    )
    const parts = () => proxy.log.filter((r) => r.method === 'PUT' && r.url.includes('partNumber='))
    proxy.log.length = 0
    const controller = new AbortController()
    const first = pushObjects(store, remote, [id], {
      signal: controller.signal,
      onProgress: (e) => {
        if (e.type === 'transfer' && e.done >= 25 * MiB) controller.abort()
      },
    })
    await expect(first).rejects.toMatchObject({ code: 'INTERRUPTED' })
    const sentBefore = parts().length
    expect(sentBefore).toBeGreaterThanOrEqual(5)
    expect(sentBefore).toBeLessThan(12)
    const second = await pushObjects(store, remote, [id])
    expect(second.resumed).toBe(1)
    // 60 MiB in 5 MiB parts is 12 parts (plus a small pack of manifests); at most the parts in
    // flight when Ctrl-C came are sent twice.
    expect(parts().length).toBeLessThanOrEqual(12 + 2)
    expect(second.sentBytes).toBeLessThan(40 * MiB)
    const other = await openStore(join(dir, 'store-f'), { create: true })
    expect((await fetchObjects(other, remote, [id])).missing).toEqual([])
    await materialize(other, id, join(dir, 'e.out'))
    expect(readFileSync(join(dir, 'e.out')).equals(readFileSync(path))).toBe(true)
    await Promise.all([store.close(), other.close()])
  })

  test('uploads are not hashed a second time for the signature; range reads land in the buffer given', async () => {
    const remote = s3Remote(
      'unsigned',
      's3://mlvc-remote/unsigned',
      { bucket: 'mlvc-remote', prefix: 'unsigned', endpoint: proxy.endpoint },
      { partSize: 5 * MiB, multipartThreshold: 5 * MiB },
    )
    const path = join(dir, 'unsigned.bin')
    const data = writeRandomFile(path, 12 * MiB + 5, 21)
    proxy.log.length = 0
    await remote.upload(path, 'big.bin')
    await remote.put('small.txt', 'hello')
    const bodies = proxy.log.filter((r) => r.method === 'PUT')
    expect(bodies.length).toBe(4)
    for (const r of bodies) expect(r.payloadHash).toBe('UNSIGNED-PAYLOAD')

    const into = Buffer.alloc(8 * MiB)
    const range = await remote.getRange('big.bin', 3 * MiB + 1, 6 * MiB, { into })
    expect(range.equals(data.subarray(3 * MiB + 1, 9 * MiB + 1))).toBe(true)
    expect(range.buffer).toBe(into.buffer)
    const small = Buffer.alloc(16)
    const other = await remote.getRange('big.bin', 7, 100, { into: small })
    expect(other.equals(data.subarray(7, 107))).toBe(true)
    expect(other.buffer).not.toBe(small.buffer)
    await expect(remote.getRange('big.bin', 12 * MiB, 10, { into })).rejects.toThrow(
      `has ${data.length} bytes; wanted 10 at ${12 * MiB}`,
    )
  })

  test('a byte corrupted in transit: fetch refuses the object, stores nothing, the next fetch completes', async () => {
    const store = await openStore(join(dir, 'store-c'), { create: true })
    const path = join(dir, 'c.bin')
    const data = writeRandomFile(path, 2 * MiB, 9)
    const id = (await ingestFile(store, path)).id
    await store.commit()
    await pushObjects(store, flaky, [id])
    const other = await openStore(join(dir, 'store-d'), { create: true })
    proxy.rule = (req) =>
      req.method === 'GET' && req.url.includes('.pack') ? 'corrupt' : undefined
    await expect(fetchObjects(other, flaky, [id])).rejects.toThrow(
      /is corrupt \(its bytes do not match its id\)/,
    )
    proxy.rule = () => undefined
    const fetched = await fetchObjects(other, flaky, [id])
    expect(fetched.missing).toEqual([])
    await materialize(other, id, join(dir, 'c.out'))
    expect(readFileSync(join(dir, 'c.out')).equals(data)).toBe(true)
    await Promise.all([store.close(), other.close()])
  })
})
