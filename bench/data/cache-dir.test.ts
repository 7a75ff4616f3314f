import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { cachedDir } from './cache-dir.ts'

const dir = mkdtempSync(join(tmpdir(), 'mlvc-bench-cachedir-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('cached folders', () => {
  it('are filled once and then reused', async () => {
    let fills = 0
    const fill = async (tmp: string) => {
      fills++
      writeFileSync(join(tmp, 'a.txt'), 'a')
    }
    const path = join(dir, 'repo')
    expect(await cachedDir(path, fill)).toBe(path)
    expect(await cachedDir(path, fill)).toBe(path)
    expect(fills).toBe(1)
    expect(readFileSync(join(path, 'a.txt'), 'utf8')).toBe('a')
  })

  it('leave nothing behind when filling fails', async () => {
    const path = join(dir, 'broken')
    await expect(
      cachedDir(path, async (tmp) => {
        writeFileSync(join(tmp, 'half.txt'), 'x')
        throw new Error('disk full')
      }),
    ).rejects.toThrow('disk full')
    expect(existsSync(path)).toBe(false)
    expect(readdirSync(dir).filter((n) => n.startsWith('broken'))).toEqual([])
  })
})
