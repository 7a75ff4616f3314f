import { createWriteStream } from 'node:fs'
import { open, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { S3Client } from '@aws-sdk/client-s3'
import { ensureDir, MlvcError, mapConcurrent, readFull, uniqueName } from '../core/index.ts'
import { checkKey } from './keys.ts'
import type { Remote, RemoteCallOptions, RemoteObjectInfo } from './remote.ts'
import { type RetryPolicy, withRetries } from './retry.ts'
import { s3Error } from './s3-errors.ts'

/** Where an S3 remote is and how to reach it; credentials come from the AWS SDK's chain. */
export interface S3Location {
  bucket: string
  /** Key prefix inside the bucket, without leading or trailing "/" ('' for the bucket's root). */
  prefix: string
  /** A custom endpoint (MinIO, Ceph RGW, R2, GCS interoperability). @default AWS */
  endpoint?: string | undefined
  /** @default the SDK's (AWS_REGION, the profile), else us-east-1 */
  region?: string | undefined
  /** A profile of ~/.aws/config and ~/.aws/credentials. @default the SDK's (AWS_PROFILE) */
  profile?: string | undefined
  /** Path-style addressing (http://host/bucket/key). @default true with a custom endpoint */
  pathStyle?: boolean | undefined
}

export interface S3Tuning {
  /** Files above this size are uploaded in parts. @default 16 MiB */
  multipartThreshold?: number
  /** @default 8 MiB (S3's minimum is 5 MiB) */
  partSize?: number
  /** Parts of one upload in flight. @default half of `concurrency` (a push uploads two packs at once), else 4 */
  partConcurrency?: number
  /** Requests a transfer keeps in flight (Remote.concurrency). */
  concurrency?: number | undefined
  retry?: RetryPolicy | undefined
}

/** Parses s3://BUCKET[/PREFIX]; throws naming the remote for anything else. */
export function parseS3Url(url: string, remote: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url)
  const bucket = match?.[1] ?? ''
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new MlvcError(
      'BAD_CONFIG',
      `remote ${remote}: "${url}" is not an s3://BUCKET/PREFIX URL`,
      {
        hint: 'bucket names are 3–63 lowercase letters, digits, dots and hyphens',
      },
    )
  }
  const prefix = (match?.[2] ?? '').replace(/\/+$/, '')
  if (prefix !== '') checkKey(prefix, remote)
  return { bucket, prefix }
}

const MiB = 1024 * 1024

/**
 * Sends bodies without a SHA-256 of the payload in the signature (UNSIGNED-PAYLOAD, which S3 and
 * its clones accept). The SDK would otherwise hash every part on the main thread before sending it
 * (over http; https is not hashed), a second hash of every byte a push already verified: mlvc
 * checks every object against its id when it reads it back (fetch, fsck), and TCP's checksums cover
 * the way there. Requests without a body keep the hash of the empty payload.
 */
function unsignedPayload<Args extends { request: unknown }, Output>(
  next: (args: Args) => Promise<Output>,
): (args: Args) => Promise<Output> {
  return (args) => {
    const request = args.request
    if (isRequestWithBody(request)) request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD'
    return next(args)
  }
}

function isRequestWithBody(
  request: unknown,
): request is { headers: Record<string, string>; body: unknown } {
  if (typeof request !== 'object' || request === null) return false
  const { headers, body } = request as { headers?: unknown; body?: unknown }
  return typeof headers === 'object' && headers !== null && body !== undefined && body !== null
}

/**
 * A remote in an S3 bucket under a prefix, through the official AWS SDK (imported on first use:
 * it is large). Every call is one request (multipart uploads: one per part) and takes the caller's
 * AbortSignal; retries and timeouts are the transfer engine's (`retrying()`), so the SDK's own
 * retries are off.
 */
export function s3Remote(
  name: string,
  url: string,
  location: S3Location,
  tuning: S3Tuning = {},
): Remote {
  const { bucket, prefix } = location
  const keyOf = (key: string) => (prefix ? `${prefix}/${checkKey(key, name)}` : checkKey(key, name))
  const threshold = tuning.multipartThreshold ?? 16 * MiB
  const partSize = Math.max(5 * MiB, tuning.partSize ?? 8 * MiB)
  const partConcurrency =
    tuning.partConcurrency ?? (tuning.concurrency ? Math.ceil(tuning.concurrency / 2) : 4)
  let client: Promise<{ s3: S3Client; sdk: typeof import('@aws-sdk/client-s3') }> | undefined

  function connect() {
    client ??= (async () => {
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
      const sdk = await import('@aws-sdk/client-s3')
      const s3 = new sdk.S3Client({
        ...(location.endpoint ? { endpoint: location.endpoint } : {}),
        region:
          location.region ??
          process.env.AWS_REGION ??
          process.env.AWS_DEFAULT_REGION ??
          'us-east-1',
        ...(location.profile ? { profile: location.profile } : {}),
        forcePathStyle: location.pathStyle ?? location.endpoint !== undefined,
        maxAttempts: 1,
        // Ceph and other S3-compatible servers reject the SDK's default aws-chunked trailing checksums;
        // mlvc verifies every object against its id anyway.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        requestHandler: {
          connectionTimeout: 10_000,
          httpAgent: { keepAlive: true, maxSockets: 64 },
          httpsAgent: { keepAlive: true, maxSockets: 64 },
        },
      })
      s3.middlewareStack.add(unsignedPayload, { step: 'build', name: 'mlvcUnsignedPayload' })
      return { s3, sdk }
    })()
    return client
  }

  // Part buffers, reused: a fresh 8 MiB buffer per part costs page faults and garbage collection.
  const spareParts: Buffer[] = []
  const takePart = () => spareParts.pop() ?? Buffer.allocUnsafeSlow(partSize)
  const returnPart = (buffer: Buffer) => {
    if (spareParts.length < 2 * partConcurrency) spareParts.push(buffer)
  }

  type Sdk = typeof import('@aws-sdk/client-s3')
  type SendOptions = { abortSignal?: AbortSignal }

  /**
   * One request through the client, whole (its body read inside), with the engine's timeout and
   * retries; errors become MlvcErrors naming the remote and the key.
   */
  async function send<T>(
    action: string,
    key: string,
    options: RemoteCallOptions | undefined,
    request: (s3: S3Client, sdk: Sdk, sendOptions: SendOptions) => Promise<T>,
  ): Promise<T> {
    const { s3, sdk } = await connect()
    const where = `s3://${bucket}/${prefix ? `${prefix}/` : ''}${key}`
    return withRetries(
      async ({ signal }) => {
        try {
          return await request(s3, sdk, { abortSignal: signal })
        } catch (err) {
          throw s3Error(err, { remote: name, url, action, key: where })
        }
      },
      {
        policy: tuning.retry,
        signal: options?.signal,
        describe: () => `remote ${name}: ${action} ${where}`,
      },
    )
  }

  async function readBody(body: unknown): Promise<Buffer> {
    const chunks: Buffer[] = []
    for await (const chunk of body as Readable) chunks.push(chunk as Buffer)
    return Buffer.concat(chunks)
  }

  /**
   * A range's body, copied into `into` when it fits (the caller's reused buffer), else into one
   * buffer of `length`: never gathered and concatenated. `received` counts every byte of the body,
   * so that an answer longer than asked for shows as such.
   */
  async function readRangeBody(
    body: unknown,
    length: number,
    into?: Buffer,
  ): Promise<{ data: Buffer; received: number }> {
    const target = into && into.length >= length ? into : Buffer.allocUnsafe(length)
    let received = 0
    for await (const chunk of body as AsyncIterable<Buffer>) {
      if (received < length)
        chunk.copy(target, received, 0, Math.min(chunk.length, length - received))
      received += chunk.length
    }
    return { data: target.subarray(0, Math.min(received, length)), received }
  }

  /** What a resumable multipart upload keeps beside its file to go on after an interruption. */
  interface UploadState {
    key: string
    uploadId: string
    size: number
    mtimeMs: number
    partSize: number
  }

  async function readState(file: string): Promise<UploadState | undefined> {
    try {
      return JSON.parse(await readFile(file, 'utf8')) as UploadState
    } catch {
      return undefined
    }
  }

  function abortUpload(key: string, uploadId: string): Promise<unknown> {
    return send('aborting the upload of', key, undefined, (s3, sdk, o) =>
      s3.send(
        new sdk.AbortMultipartUploadCommand({
          Bucket: bucket,
          Key: keyOf(key),
          UploadId: uploadId,
        }),
        o,
      ),
    ).catch(() => undefined)
  }

  /** Parts of an unfinished upload already on the server: part number → ETag. */
  async function uploadedParts(
    key: string,
    uploadId: string,
    size: number,
  ): Promise<Map<number, string>> {
    const done = new Map<number, string>()
    let marker: string | undefined
    do {
      const page = await send('resuming the upload of', key, undefined, (s3, sdk, o) =>
        s3.send(
          new sdk.ListPartsCommand({
            Bucket: bucket,
            Key: keyOf(key),
            UploadId: uploadId,
            ...(marker ? { PartNumberMarker: marker } : {}),
          }),
          o,
        ),
      )
      for (const part of page.Parts ?? []) {
        const n = part.PartNumber ?? 0
        const expected = Math.min(partSize, size - (n - 1) * partSize)
        if (n > 0 && part.ETag && part.Size === expected) done.set(n, part.ETag)
      }
      marker = page.IsTruncated ? page.NextPartNumberMarker : undefined
    } while (marker)
    return done
  }

  /**
   * A multipart upload, `partConcurrency` parts in flight. Resumable: the upload id is kept beside
   * the file, and a later call for the same unchanged file and key sends only the parts the server
   * lacks. Otherwise, or when the file changed, a failed upload is aborted: parts are never left
   * behind to be billed (`mlvc gc --remote` aborts those a killed process left).
   */
  async function uploadParts(
    path: string,
    key: string,
    size: number,
    mtimeMs: number,
    options?: RemoteCallOptions,
  ) {
    const stateFile = `${path}.upload.json`
    let state = options?.resumable ? await readState(stateFile) : undefined
    let done = new Map<number, string>()
    if (state) {
      const same =
        state.key === keyOf(key) &&
        state.size === size &&
        state.mtimeMs === mtimeMs &&
        state.partSize === partSize
      if (same) {
        try {
          done = await uploadedParts(key, state.uploadId, size)
        } catch (err) {
          if (!(err instanceof MlvcError && err.code === 'NOT_FOUND')) throw err
          state = undefined
        }
      } else {
        await abortUpload(key, state.uploadId)
        state = undefined
      }
    }
    if (!state) {
      const created = await send('starting an upload of', key, options, (s3, sdk, o) =>
        s3.send(new sdk.CreateMultipartUploadCommand({ Bucket: bucket, Key: keyOf(key) }), o),
      )
      if (!created.UploadId)
        throw new MlvcError('REMOTE', `remote ${name}: the server returned no upload id`)
      state = { key: keyOf(key), uploadId: created.UploadId, size, mtimeMs, partSize }
      if (options?.resumable) await writeFile(stateFile, JSON.stringify(state))
    }
    const uploadId = state.uploadId
    const handle = await open(path, 'r')
    try {
      const count = Math.ceil(size / partSize)
      const parts = await mapConcurrent(
        Array.from({ length: count }, (_, i) => i),
        partConcurrency,
        async (i) => {
          const known = done.get(i + 1)
          if (known) return { ETag: known, PartNumber: i + 1 }
          const length = Math.min(partSize, size - i * partSize)
          const buffer = takePart()
          try {
            const body = buffer.subarray(0, length)
            if ((await readFull(handle, body, i * partSize)) !== length) {
              throw new MlvcError('IO', `${path} changed while it was uploaded to remote ${name}`)
            }
            const out = await send('uploading a part of', key, options, (s3, sdk, o) =>
              s3.send(
                new sdk.UploadPartCommand({
                  Bucket: bucket,
                  Key: keyOf(key),
                  UploadId: uploadId,
                  PartNumber: i + 1,
                  Body: body,
                  ContentLength: length,
                }),
                o,
              ),
            )
            options?.onBytes?.(length)
            return { ETag: out.ETag, PartNumber: i + 1 }
          } finally {
            returnPart(buffer)
          }
        },
      )
      await send('finishing the upload of', key, options, (s3, sdk, o) =>
        s3.send(
          new sdk.CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: keyOf(key),
            UploadId: uploadId,
            MultipartUpload: { Parts: parts },
          }),
          o,
        ),
      )
      await rm(stateFile, { force: true })
    } catch (err) {
      if (!options?.resumable) await abortUpload(key, uploadId)
      throw err
    } finally {
      await handle.close()
    }
  }

  return {
    name,
    url,
    concurrency: tuning.concurrency,
    async *list(keyPrefix, options) {
      const full = prefix ? `${prefix}/${keyPrefix}` : keyPrefix
      let token: string | undefined
      do {
        const page = await send('listing', keyPrefix, options, (s3, sdk, o) =>
          s3.send(
            new sdk.ListObjectsV2Command({
              Bucket: bucket,
              Prefix: full,
              ...(token ? { ContinuationToken: token } : {}),
            }),
            o,
          ),
        )
        // S3's answer names the bucket; a page that parsed without it was not S3's XML (an HTML
        // page from a proxy would otherwise read as an empty listing: a remote that looks empty).
        if (page.Name !== bucket) {
          throw new MlvcError(
            'REMOTE',
            `remote ${name}: listing s3://${bucket}/${full}: the server's answer is not an S3 listing`,
            { hint: `check that ${url} and its endpoint point at an S3-compatible server` },
          )
        }
        for (const item of page.Contents ?? []) {
          if (item.Key === undefined) continue
          const key = prefix ? item.Key.slice(prefix.length + 1) : item.Key
          yield {
            key,
            size: item.Size ?? 0,
            modified: item.LastModified,
          } satisfies RemoteObjectInfo
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined
      } while (token)
    },
    async head(key, options) {
      try {
        const out = await send('reading', key, options, (s3, sdk, o) =>
          s3.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: keyOf(key) }), o),
        )
        return { key, size: out.ContentLength ?? 0 }
      } catch (err) {
        if (err instanceof MlvcError && err.code === 'NOT_FOUND') return undefined
        throw err
      }
    },
    async get(key, options) {
      return send('reading', key, options, async (s3, sdk, o) => {
        const out = await s3.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: keyOf(key) }), o)
        return readBody(out.Body)
      })
    },
    async getRange(key, offset, length, options) {
      if (length === 0) return Buffer.alloc(0)
      const where = `s3://${bucket}/${keyOf(key)}`
      return send('reading', key, options, async (s3, sdk, o) => {
        const out = await s3.send(
          new sdk.GetObjectCommand({
            Bucket: bucket,
            Key: keyOf(key),
            Range: `bytes=${offset}-${offset + length - 1}`,
          }),
          o,
        )
        const { data, received } = await readRangeBody(out.Body, length, options?.into)
        if (received === length && out.ContentRange?.startsWith(`bytes ${offset}-`)) return data
        const total = Number(/\/(\d+)$/.exec(out.ContentRange ?? '')?.[1] ?? Number.NaN)
        if (total < offset + length) {
          throw new MlvcError(
            'REMOTE',
            `remote ${name}: ${where} has ${total} bytes; wanted ${length} at ${offset}`,
            { hint: `the object is shorter than its index says: run mlvc fsck --remote ${name}` },
          )
        }
        // A body cut short or a server that ignored the range: worth asking again.
        throw new MlvcError(
          'REMOTE',
          `remote ${name}: ${where} gave ${received} bytes at ${offset} (wanted ${length}${out.ContentRange ? '' : '; the answer had no Content-Range'})`,
          { retryable: true },
        )
      })
    },
    async download(key, path, options) {
      await ensureDir(dirname(path))
      await send('downloading', key, options, async (s3, sdk, o) => {
        const out = await s3.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: keyOf(key) }), o)
        const tmp = join(dirname(path), `.${uniqueName('incoming')}`)
        try {
          await pipeline(out.Body as Readable, createWriteStream(tmp, { flags: 'wx' }))
          await rename(tmp, path)
        } finally {
          await rm(tmp, { force: true })
        }
      })
    },
    async put(key, data, options) {
      const body = typeof data === 'string' ? Buffer.from(data) : data
      await send('writing', key, options, (s3, sdk, o) =>
        s3.send(
          new sdk.PutObjectCommand({
            Bucket: bucket,
            Key: keyOf(key),
            Body: body,
            ContentLength: body.length,
          }),
          o,
        ),
      )
    },
    async create(key, data, options) {
      const body = typeof data === 'string' ? Buffer.from(data) : data
      try {
        await send('writing', key, options, (s3, sdk, o) =>
          s3.send(
            new sdk.PutObjectCommand({
              Bucket: bucket,
              Key: keyOf(key),
              Body: body,
              ContentLength: body.length,
              IfNoneMatch: '*',
            }),
            o,
          ),
        )
        return true
      } catch (err) {
        if (err instanceof MlvcError && err.code === 'EXISTS') return false
        throw err
      }
    },
    async upload(path, key, options) {
      const handle = await open(path, 'r')
      let size: number
      let mtimeMs: number
      try {
        ;({ size, mtimeMs } = await handle.stat())
        if (size <= threshold) {
          const body = Buffer.allocUnsafe(size)
          if ((await readFull(handle, body, 0)) !== size) {
            throw new MlvcError('IO', `${path} changed while it was read`)
          }
          await send('uploading to', key, options, (s3, sdk, o) =>
            s3.send(
              new sdk.PutObjectCommand({
                Bucket: bucket,
                Key: keyOf(key),
                Body: body,
                ContentLength: size,
              }),
              o,
            ),
          )
          options?.onBytes?.(size)
          return
        }
      } finally {
        await handle.close()
      }
      await uploadParts(path, key, size, mtimeMs, options)
    },
    async abandonedUploads(before, { dryRun }) {
      let count = 0
      let keyMarker: string | undefined
      let idMarker: string | undefined
      do {
        const page = await send('listing unfinished uploads in', '', undefined, (s3, sdk, o) =>
          s3.send(
            new sdk.ListMultipartUploadsCommand({
              Bucket: bucket,
              ...(prefix ? { Prefix: `${prefix}/` } : {}),
              ...(keyMarker ? { KeyMarker: keyMarker, UploadIdMarker: idMarker } : {}),
            }),
            o,
          ),
        )
        for (const upload of page.Uploads ?? []) {
          if (!upload.Key || !upload.UploadId || !upload.Initiated) continue
          if (upload.Initiated >= before) continue
          count++
          if (dryRun) continue
          const { Key, UploadId } = upload
          await send('aborting an upload in', '', undefined, (s3, sdk, o) =>
            s3.send(new sdk.AbortMultipartUploadCommand({ Bucket: bucket, Key, UploadId }), o),
          )
        }
        keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined
        idMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined
      } while (keyMarker)
      return count
    },
    async delete(key, options) {
      await send('deleting', key, options, (s3, sdk, o) =>
        s3.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: keyOf(key) }), o),
      )
    },
  }
}
