import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parseTimeOutput, runTimed } from './proc.ts'

const dir = mkdtempSync(join(tmpdir(), 'mlvc-bench-proc-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined

describe('timed processes', () => {
  it('parses GNU time output, also after a failure notice', () => {
    expect(parseTimeOutput('12.34 56789\n')).toBe(56789)
    expect(parseTimeOutput('Command exited with non-zero status 1\n0.01 2048\n')).toBe(2048)
    expect(parseTimeOutput('garbage')).toBeNull()
  })

  // npm test counts a skipped test as a failure, so without GNU time this checks the fallback.
  it('reports the peak RSS of a grandchild the command waits for (null without GNU time)', async () => {
    // sh waits for node, which touches 200 MiB: %M must see node's peak, not sh's.
    const script = 'const b = Buffer.alloc(200 * 2 ** 20, 1); console.log(b[5])'
    const sample = await runTimed(
      { file: 'sh', args: ['-c', `"${process.execPath}" -e '${script}'; true`] },
      { timeBin, reportPath: join(dir, 'report') },
    )
    expect(sample.stdout.trim()).toBe('1')
    if (!timeBin) return expect(sample.peakRssKiB).toBeNull()
    expect(sample.peakRssKiB).toBeGreaterThan(200 * 1024)
    expect(sample.peakRssKiB).toBeLessThan(400 * 1024)
    expect(sample.seconds).toBeGreaterThan(0)
  })

  it('throws with the command and its stderr when it fails', async () => {
    const failing = runTimed(
      { file: process.execPath, args: ['-e', 'console.error("boom"); process.exit(3)'] },
      { timeBin, reportPath: join(dir, 'report2') },
    )
    await expect(failing).rejects.toThrow(/exit code 3[\s\S]*boom/)
  })
})
