import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { interruptWhen, parseTimeOutput, runTimed } from './proc.ts'

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

describe('interrupted processes', () => {
  it('send SIGINT to the whole group once ready() holds, as Ctrl-C does', async () => {
    // The child starts a grandchild in its group, then says it is ready; both see the SIGINT.
    const flag = join(dir, 'ready')
    const child = `
      const { spawn } = require('node:child_process')
      const { writeFileSync } = require('node:fs')
      const grandchild = spawn(process.execPath, ['-e', 'process.on("SIGINT", () => { require("node:fs").writeFileSync(${JSON.stringify(`${flag}.grandchild`)}, "got it"); process.exit(0) }); setInterval(() => {}, 1000); require("node:fs").writeFileSync(${JSON.stringify(`${flag}.waiting`)}, "")'])
      process.on('SIGINT', () => grandchild.on('exit', () => process.exit(130)))
      const wait = setInterval(() => {
        if (require('node:fs').existsSync(${JSON.stringify(`${flag}.waiting`)})) {
          clearInterval(wait)
          writeFileSync(${JSON.stringify(flag)}, '')
        }
      }, 5)`
    const out = await interruptWhen({ file: process.execPath, args: ['-e', child] }, () =>
      existsSync(flag),
    )
    expect(out).toMatchObject({ interrupted: true, code: 130 })
    expect(readFileSync(`${flag}.grandchild`, 'utf8')).toBe('got it')
  })

  it('leave a command that ends first alone', async () => {
    const out = await interruptWhen(
      { file: process.execPath, args: ['-e', 'process.exit(4)'] },
      () => false,
    )
    expect(out).toMatchObject({ interrupted: false, code: 4 })
  })
})
