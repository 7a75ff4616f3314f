import { describe, expect, it } from 'vitest'
import { MlvcError } from '../core/index.ts'
import { backoffDelay, withRetries } from './retry.ts'

const transient = () => new MlvcError('REMOTE', 'reset', { retryable: true })
const quick = { baseDelayMs: 1, maxDelayMs: 2 }

describe('withRetries', () => {
  it('retries retryable failures and returns the first success', async () => {
    let calls = 0
    const value = await withRetries(
      async ({ attempt }) => {
        calls++
        if (attempt < 3) throw transient()
        return 'ok'
      },
      { policy: quick, describe: () => 'r' },
    )
    expect([value, calls]).toEqual(['ok', 3])
  })

  it('gives up after `attempts` and throws the last failure', async () => {
    let calls = 0
    const run = withRetries(
      async () => {
        calls++
        throw transient()
      },
      { policy: { ...quick, attempts: 4 }, describe: () => 'r' },
    )
    await expect(run).rejects.toThrow('reset')
    expect(calls).toBe(4)
  })

  it('does not retry what is not retryable', async () => {
    let calls = 0
    const run = withRetries(
      async () => {
        calls++
        throw new MlvcError('REMOTE', 'access denied')
      },
      { policy: quick, describe: () => 'r' },
    )
    await expect(run).rejects.toThrow('access denied')
    expect(calls).toBe(1)
  })

  it('times out a stalled attempt, retries it, and names the request', async () => {
    let calls = 0
    const stall = ({ signal }: { signal: AbortSignal }) =>
      new Promise<string>((_, fail) => {
        calls++
        signal.addEventListener('abort', () => fail(new Error('aborted')))
      })
    const run = withRetries(stall, {
      policy: { ...quick, attempts: 2, timeoutMs: 20 },
      describe: () => 'remote x: reading k',
    })
    await expect(run).rejects.toThrow('remote x: reading k: no answer within 0.02 s')
    expect(calls).toBe(2)
  })

  it("stops at once with INTERRUPTED when the caller's signal aborts, even mid-backoff", async () => {
    const controller = new AbortController()
    let calls = 0
    const run = withRetries(
      async () => {
        calls++
        setTimeout(() => controller.abort(), 5)
        throw transient()
      },
      {
        policy: { baseDelayMs: 60_000, maxDelayMs: 60_000 },
        signal: controller.signal,
        describe: () => 'r',
      },
    )
    await expect(run).rejects.toMatchObject({ code: 'INTERRUPTED' })
    expect(calls).toBe(1)
  })
})

describe('backoffDelay', () => {
  it('is full jitter under a cap that doubles per retry up to the maximum', () => {
    const policy = { baseDelayMs: 100, maxDelayMs: 1000 }
    expect(backoffDelay(0, policy, () => 0.999)).toBe(99)
    expect(backoffDelay(2, policy, () => 0.999)).toBe(399)
    expect(backoffDelay(10, policy, () => 0.999)).toBe(999)
    expect(backoffDelay(3, policy, () => 0)).toBe(0)
  })
})
