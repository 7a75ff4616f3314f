import { MlvcError } from '../core/index.ts'

/** How a network remote sends one request: a timeout per attempt, retries with backoff. */
export interface RetryPolicy {
  /** Attempts in all, the first included. @default 5 */
  attempts?: number
  /** The first retry waits up to this long; each next one up to twice as long. @default 250 */
  baseDelayMs?: number
  /** @default 15000 */
  maxDelayMs?: number
  /** One attempt (a request and its whole body) may take this long. @default 120000 */
  timeoutMs?: number
}

export const DEFAULT_RETRY: Required<RetryPolicy> = {
  attempts: 5,
  baseDelayMs: 250,
  maxDelayMs: 15_000,
  timeoutMs: 120_000,
}

/** Full jitter (AWS's recommendation): a random wait in [0, min(max, base·2^retry)]. */
export function backoffDelay(retry: number, policy: RetryPolicy, random = Math.random): number {
  const base = policy.baseDelayMs ?? DEFAULT_RETRY.baseDelayMs
  const max = policy.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs
  return Math.floor(random() * Math.min(max, base * 2 ** retry))
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}

export interface AttemptContext {
  /** Aborts when the caller's signal does or when this attempt times out. */
  signal: AbortSignal
  attempt: number
}

/**
 * Runs `request` until it succeeds, fails with an error that is not retryable, or runs out of
 * attempts. Each attempt gets a signal that fires on the caller's abort (→ INTERRUPTED, never
 * retried) or after `timeoutMs` (→ a retryable timeout). `describe` names the request in errors.
 */
export async function withRetries<T>(
  request: (ctx: AttemptContext) => Promise<T>,
  options: {
    policy?: RetryPolicy | undefined
    signal?: AbortSignal | undefined
    describe: () => string
  },
): Promise<T> {
  const policy = { ...DEFAULT_RETRY, ...options.policy }
  for (let attempt = 1; ; attempt++) {
    if (options.signal?.aborted) throw interrupted(options.describe())
    const timeout = AbortSignal.timeout(policy.timeoutMs)
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout
    let failure: unknown
    try {
      return await request({ signal, attempt })
    } catch (err) {
      failure = err
    }
    if (options.signal?.aborted) throw interrupted(options.describe())
    if (timeout.aborted) {
      failure = new MlvcError(
        'REMOTE',
        `${options.describe()}: no answer within ${policy.timeoutMs / 1000} s`,
        {
          cause: failure,
          retryable: true,
          hint: 'the server or the network is slow or stalled; run the command again (what was transferred is kept)',
        },
      )
    }
    if (!(failure instanceof MlvcError && failure.retryable) || attempt >= policy.attempts) {
      throw failure
    }
    await sleep(backoffDelay(attempt - 1, policy), options.signal)
  }
}

function interrupted(what: string): MlvcError {
  return new MlvcError('INTERRUPTED', `${what}: interrupted`)
}
