import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../test-helpers/index.ts'
import { acquireLock } from './lock.ts'

describe('acquireLock', () => {
  const dir = tempDir('mlvc-lock')

  it('is exclusive: a second taker fails with LOCKED naming the owner; release frees it', async () => {
    const path = join(dir, 'a.lock')
    const lock = await acquireLock(path, 'the store')
    expect(readFileSync(path, 'utf8')).toBe(`${process.pid} ${hostname()}\n`)
    await expect(acquireLock(path, 'the store')).rejects.toMatchObject({
      code: 'LOCKED',
      message: `the store is locked by process ${process.pid} on ${hostname()}`,
    })
    await lock.release()
    expect(existsSync(path)).toBe(false)
    await (await acquireLock(path, 'the store')).release()
  })

  it('takes over a lock left by a process that no longer runs', async () => {
    const path = join(dir, 'b.lock')
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'])
    writeFileSync(path, `${dead.stdout.toString()} ${hostname()}\n`)
    const lock = await acquireLock(path, 'the store')
    expect(readFileSync(path, 'utf8')).toBe(`${process.pid} ${hostname()}\n`)
    await lock.release()
  })

  it('waits for a live owner up to waitMs and gets the lock when it is released', async () => {
    const path = join(dir, 'c.lock')
    const first = await acquireLock(path, 'the store')
    const second = acquireLock(path, 'the store', { waitMs: 60_000 })
    setTimeout(() => void first.release(), 20)
    await (await second).release()
  })

  it('fails with LOCKED once waitMs has passed while the owner still holds the lock', async () => {
    const path = join(dir, 'e.lock')
    const held = await acquireLock(path, 'the store')
    await expect(acquireLock(path, 'the store', { waitMs: 30 })).rejects.toMatchObject({
      code: 'LOCKED',
      message: `the store is locked by process ${process.pid} on ${hostname()}`,
    })
    expect(readFileSync(path, 'utf8')).toBe(`${process.pid} ${hostname()}\n`)
    await held.release()
  })

  it('keeps a lock of another host: it cannot tell whether that owner runs', async () => {
    const path = join(dir, 'd.lock')
    writeFileSync(path, '1 some-other-host\n')
    await expect(acquireLock(path, 'the store')).rejects.toMatchObject({ code: 'LOCKED' })
  })
})
