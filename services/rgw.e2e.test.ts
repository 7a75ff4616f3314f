import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { clusterDaemons, type S3Server, startRgw } from './rgw.ts'

/** The objects waiting for RGW's garbage collector (radosgw-admin gc list, JSON). */
async function pendingGarbage(server: S3Server): Promise<unknown[]> {
  const env = { ...process.env, CEPH_CONF: join(server.dir, 'ceph.conf') }
  const list = promisify(execFile)('radosgw-admin', ['gc', 'list', '--include-all'], { env })
  return JSON.parse((await list).stdout) as unknown[]
}

/** A client of the server with its credentials (Ceph 16.2 cannot read streamed checksums). */
function client(server: S3Server): S3Client {
  return new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  })
}

let server: S3Server
beforeAll(async () => {
  server = await startRgw()
})
afterAll(() => server?.stop())

describe('the throwaway RADOS Gateway', () => {
  it('serves S3: signed requests work, conditional create refuses a second writer', async () => {
    const s3 = client(server)
    await s3.send(new CreateBucketCommand({ Bucket: 'mlvc-test' }))
    await s3.send(
      new PutObjectCommand({ Bucket: 'mlvc-test', Key: 'k', Body: 'hello', IfNoneMatch: '*' }),
    )
    await expect(
      s3.send(
        new PutObjectCommand({ Bucket: 'mlvc-test', Key: 'k', Body: 'other', IfNoneMatch: '*' }),
      ),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } })
    const got = await s3.send(
      new GetObjectCommand({ Bucket: 'mlvc-test', Key: 'k', Range: 'bytes=1-3' }),
    )
    expect(await got.Body?.transformToString()).toBe('ell')
    const wrong = new S3Client({
      endpoint: server.endpoint,
      region: server.region,
      forcePathStyle: true,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: 'wrong' },
    })
    await expect(
      wrong.send(new GetObjectCommand({ Bucket: 'mlvc-test', Key: 'k' })),
    ).rejects.toMatchObject({
      name: 'SignatureDoesNotMatch',
    })
  })

  it('frees the tail of a deleted object when asked, not two hours later', async () => {
    const s3 = client(server)
    await s3.send(new CreateBucketCommand({ Bucket: 'mlvc-gc' }))
    const body = Buffer.alloc(12 * 1024 * 1024, 1)
    await s3.send(new PutObjectCommand({ Bucket: 'mlvc-gc', Key: 'big', Body: body }))
    await s3.send(new DeleteObjectCommand({ Bucket: 'mlvc-gc', Key: 'big' }))
    expect((await pendingGarbage(server)).length).toBeGreaterThan(0)
    await server.collectGarbage()
    expect(await pendingGarbage(server)).toEqual([])
  })

  it('stop() ends every daemon (a memstore OSD left running keeps what was written in memory)', async () => {
    const other = await startRgw()
    const pids = clusterDaemons(other.dir)
    expect(pids.length).toBeGreaterThanOrEqual(3)
    await other.stop()
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0)
        return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ')
      } catch {
        return false
      }
    }
    for (let i = 0; i < 50 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 100))
    expect(pids.filter(alive)).toEqual([])
  })
})
