import { MlvcError } from '../core/index.ts'

export interface S3ErrorContext {
  remote: string
  url: string
  /** What was being done: "reading", "uploading to" … */
  action: string
  /** s3://bucket/key */
  key: string
}

interface SdkErrorShape {
  name?: string
  code?: string
  message?: string
  $fault?: 'client' | 'server'
  $metadata?: { httpStatusCode?: number }
  $response?: { statusCode?: number; headers?: Record<string, string> }
}

const NETWORK = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
])

const THROTTLED = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'RequestThrottled',
  'TooManyRequests',
  'RequestLimitExceeded',
])

const CREDENTIALS = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
])

function status(err: SdkErrorShape): number | undefined {
  return err.$metadata?.httpStatusCode ?? err.$response?.statusCode
}

/**
 * Turns what the AWS SDK (or the network under it) threw into one MlvcError that names the remote
 * and the key, says what to do, and is marked retryable when sending the request again may help:
 * timeouts, connection resets, 5xx, throttling (`SlowDown`), a body cut short.
 */
export function s3Error(err: unknown, ctx: S3ErrorContext): MlvcError {
  if (err instanceof MlvcError) return err
  const e = (typeof err === 'object' && err !== null ? err : {}) as SdkErrorShape
  const name = e.name ?? ''
  const code = e.code ?? ''
  const http = status(e)
  const where = `remote ${ctx.remote}: ${ctx.action} ${ctx.key}`
  const detail = (e.message ?? String(err)).split('\n')[0]
  if (name === 'AbortError' && !NETWORK.has(code)) {
    return new MlvcError('INTERRUPTED', `${where}: interrupted`, { cause: err })
  }
  if (name === 'NoSuchKey' || name === 'NotFound' || (http === 404 && name !== 'NoSuchBucket')) {
    return new MlvcError('NOT_FOUND', `${where}: not found`, { cause: err })
  }
  if (name === 'PreconditionFailed' || http === 412) {
    return new MlvcError('EXISTS', `${where}: exists already`, { cause: err })
  }
  if (name === 'NoSuchBucket') {
    const bucket = /^s3:\/\/([^/]+)/.exec(ctx.key)?.[1] ?? ''
    return new MlvcError('REMOTE', `remote ${ctx.remote}: bucket ${bucket} does not exist`, {
      cause: err,
      hint: `create it (aws s3 mb s3://${bucket}), or fix the URL: mlvc remote add ${ctx.remote} s3://BUCKET/PREFIX`,
    })
  }
  if (
    name === 'PermanentRedirect' ||
    name === 'AuthorizationHeaderMalformed' ||
    name === 'IllegalLocationConstraintException' ||
    http === 301
  ) {
    return new MlvcError('REMOTE', `${where}: the bucket is in another region`, {
      cause: err,
      hint: `set the bucket's region: mlvc remote add ${ctx.remote} ${ctx.url} --region REGION`,
    })
  }
  if (CREDENTIALS.has(name) || http === 403) {
    return new MlvcError('REMOTE', `${where}: access denied (${name || `HTTP ${http}`})`, {
      cause: err,
      hint: 'check the credentials the AWS SDK finds (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or --profile, ~/.aws/credentials) and the bucket policy',
    })
  }
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(detail ?? '')) {
    return new MlvcError('REMOTE', `remote ${ctx.remote}: no AWS credentials found`, {
      cause: err,
      hint: 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile (AWS_PROFILE, --profile)',
    })
  }
  const transient =
    THROTTLED.has(name) ||
    NETWORK.has(code) ||
    NETWORK.has(name) ||
    name === 'TimeoutError' ||
    name === 'RequestTimeout' ||
    name === 'RequestTimeoutException' ||
    e.$fault === 'server' ||
    (http !== undefined && (http >= 500 || http === 429 || http === 408))
  if (transient) {
    return new MlvcError(
      'REMOTE',
      `${where}: ${THROTTLED.has(name) ? 'throttled by the server' : detail}`,
      {
        cause: err,
        retryable: true,
        hint: 'the server or the network failed; run the command again (what was transferred is kept)',
      },
    )
  }
  // A body that is not S3's XML (an HTML page from a proxy, garbage) fails in the SDK's parser.
  if (/deserializ|char|xml|unexpected|parse/i.test(detail ?? '') || name === 'SyntaxError') {
    return new MlvcError('REMOTE', `${where}: the server's answer is not S3's (${detail})`, {
      cause: err,
      retryable: http === undefined || http >= 500,
      hint: `check that ${ctx.url} and its endpoint point at an S3-compatible server`,
    })
  }
  return new MlvcError('REMOTE', `${where}: ${name || 'error'}${detail ? `: ${detail}` : ''}`, {
    cause: err,
  })
}
