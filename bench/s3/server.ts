import type { S3Client } from '@aws-sdk/client-s3'
import { RGW_COMMANDS, RGW_PACKAGES, type S3Server, startRgw } from '../../services/rgw.ts'
import { missingCommands } from '../../services/util.ts'

/** The bucket every S3 scenario works in; each run uses its own prefix in it. */
export const BUCKET = 'bench'

/** The S3 server of one scenario: a throwaway RADOS Gateway on loopback with one bucket. */
export interface BenchS3 {
  server: S3Server
  /** `s3://bench/PREFIX` */
  url(prefix: string): string
  /** How many objects there are under `prefix/`, and their bytes. */
  count(prefix: string): Promise<{ objects: number; bytes: number }>
  /**
   * Removes every object and unfinished upload under `prefix/` and frees their space in the
   * server at once (its memstore OSD holds everything in memory: a benchmark that wrote gigabytes
   * would otherwise fill it).
   */
  empty(prefix: string): Promise<void>
  close(): Promise<void>
}

/** Why the scenario cannot run here, with the install command; undefined when it can. */
export async function rgwMissing(): Promise<string | undefined> {
  const missing = await missingCommands(RGW_COMMANDS)
  if (missing.length === 0) return undefined
  const install = `apt-get install -y --no-install-recommends ${RGW_PACKAGES.join(' ')}`
  return `not available: Ceph's RADOS Gateway is not installed (${install})`
}

type Sdk = typeof import('@aws-sdk/client-s3')

/** Every object under `prefix/`, a page (up to 1,000) at a time. */
async function* listPages(s3: S3Client, sdk: Sdk, prefix: string) {
  for (let token: string | undefined, more = true; more; ) {
    const page = await s3.send(
      new sdk.ListObjectsV2Command({
        Bucket: BUCKET,
        Prefix: `${prefix}/`,
        ...(token ? { ContinuationToken: token } : {}),
      }),
    )
    yield page.Contents ?? []
    token = page.NextContinuationToken
    more = page.IsTruncated === true
  }
}

async function emptyPrefix(s3: S3Client, sdk: Sdk, prefix: string): Promise<void> {
  for await (const page of listPages(s3, sdk, prefix)) {
    const keys = page.flatMap((o) => (o.Key ? [{ Key: o.Key }] : []))
    if (keys.length === 0) continue
    await s3.send(
      new sdk.DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: keys, Quiet: true } }),
    )
  }
  const uploads = await s3.send(
    new sdk.ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: `${prefix}/` }),
  )
  for (const { Key, UploadId } of uploads.Uploads ?? []) {
    await s3.send(new sdk.AbortMultipartUploadCommand({ Bucket: BUCKET, Key, UploadId }))
  }
}

/** Starts the server and makes the bucket; call `rgwMissing()` first. */
export async function openS3(): Promise<BenchS3> {
  const server = await startRgw()
  try {
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
    const sdk = await import('@aws-sdk/client-s3')
    const s3 = new sdk.S3Client({
      endpoint: server.endpoint,
      region: server.region,
      forcePathStyle: true,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
    })
    await s3.send(new sdk.CreateBucketCommand({ Bucket: BUCKET }))
    return {
      server,
      url: (prefix) => `s3://${BUCKET}/${prefix}`,
      async count(prefix) {
        const total = { objects: 0, bytes: 0 }
        for await (const page of listPages(s3, sdk, prefix)) {
          total.objects += page.length
          for (const o of page) total.bytes += o.Size ?? 0
        }
        return total
      },
      async empty(prefix) {
        await emptyPrefix(s3, sdk, prefix)
        await server.collectGarbage()
      },
      async close() {
        s3.destroy()
        await server.stop()
      },
    }
  } catch (err) {
    await server.stop()
    throw err
  }
}
