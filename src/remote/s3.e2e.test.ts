import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { ingestFile, materialize, openStore } from '../store/index.ts'
import { type S3Server, startRgw, tempDir, writeRandomFile } from '../test-helpers/index.ts'
import { openRemote } from './config.ts'
import type { Remote } from './remote.ts'
import { fetchObjects, pushObjects } from './transfer.ts'

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
      /gave 5 bytes at 6 \(wanted 50; the object has 11\)/,
    )
    await expect(remote.get('a/none')).rejects.toMatchObject({ code: 'NOT_FOUND' })
    const big = join(dir, 'big.bin')
    const data = writeRandomFile(big, 40 * MiB + 123, 7)
    let sent = 0
    await remote.upload(big, 'b/big.bin', { onBytes: (n) => (sent += n) })
    expect(sent).toBe(data.length)
    const listed = []
    for await (const info of remote.list('b/')) listed.push(info)
    expect(listed).toEqual([{ key: 'b/big.bin', size: data.length }])
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
