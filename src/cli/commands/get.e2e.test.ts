import { spawnSync } from 'node:child_process'
import {
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import {
  CLI,
  damageFile,
  onlyPack,
  runCli,
  runCommand,
  tempDir,
  writeRandomFile,
} from '../../test-helpers/index.ts'

const MiB = 1024 * 1024
const root = tempDir('mlvc-get')
let n = 0

/** A folder with `mlvc init` done and one file put; returns the folder, the id and the bytes. */
async function stored(size = 256 * 1024): Promise<{ dir: string; id: string; data: Buffer }> {
  const dir = join(root, `repo-${n++}`)
  mkdirSync(dir)
  expect((await runCli(['init'], { cwd: dir })).code).toBe(0)
  const data = writeRandomFile(join(dir, 'weights.bin'), size, n)
  const put = await runCli(['put', 'weights.bin'], { cwd: dir })
  expect(put.code).toBe(0)
  return { dir, id: put.stdout.split(/\s+/)[0] as string, data }
}

/** `mlvc get` with its stdout going to a file (binary-safe). */
function getToFile(dir: string, args: string[], out: string) {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`
  const cmd = [process.execPath, CLI, 'get', ...args].map(q).join(' ')
  return runCommand('sh', ['-c', `${cmd} > ${q(out)}`], { cwd: dir })
}

describe('mlvc get writes only regular files', () => {
  test('a symbolic link at OUT, dangling or not, is refused with or without --force and left as it was', async () => {
    const { dir, id } = await stored()
    symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling'))
    writeFileSync(join(dir, 'victim'), 'keep me')
    symlinkSync(join(dir, 'victim'), join(dir, 'link'))
    for (const [target, force] of [
      ['dangling', false],
      ['dangling', true],
      ['link', true],
    ] as const) {
      const r = await runCli(['get', ...(force ? ['--force'] : []), id, target], { cwd: dir })
      expect(r.code).toBe(2)
      expect(r.stderr).toContain(`${join(dir, target)} is a symbolic link`)
      expect(lstatSync(join(dir, target)).isSymbolicLink()).toBe(true)
    }
    expect(readlinkSync(join(dir, 'dangling'))).toBe(join(dir, 'nowhere'))
    expect(() => statSync(join(dir, 'nowhere'))).toThrow()
    expect(readFileSync(join(dir, 'victim'), 'utf8')).toBe('keep me')
  })

  test('a FIFO, a socket and a directory are refused even with --force', async () => {
    const { dir, id } = await stored()
    expect(spawnSync('mkfifo', [join(dir, 'fifo')]).status).toBe(0)
    mkdirSync(join(dir, 'folder'))
    const server = createServer()
    await new Promise<void>((done) => server.listen(join(dir, 'sock'), done))
    try {
      for (const [target, kind] of [
        ['fifo', 'a FIFO'],
        ['sock', 'a socket'],
        ['folder', 'a directory'],
      ] as const) {
        const r = await runCli(['get', '--force', id, target], { cwd: dir })
        expect(r.code).toBe(2)
        expect(r.stderr).toContain(`${join(dir, target)} is ${kind}`)
      }
      expect(lstatSync(join(dir, 'fifo')).isFIFO()).toBe(true)
      expect(lstatSync(join(dir, 'sock')).isSocket()).toBe(true)
    } finally {
      server.close()
    }
  })

  test('a device node is not replaced by --force (a private bind mount of /dev/null stands in for one)', async () => {
    const { dir, id } = await stored()
    const script = `touch dev && mount --bind /dev/null dev && [ -c dev ] || exit 9; "${process.execPath}" "${CLI}" get --force ${id} dev; echo "exit=$?"; [ -c dev ] && echo still-a-device`
    const r = await runCommand('unshare', ['-rm', 'sh', '-c', script], { cwd: dir })
    expect(r.stderr).toContain(`${join(dir, 'dev')} is a character device`)
    expect(r.stdout).toContain('exit=2')
    expect(r.stdout).toContain('still-a-device')
  })

  test('--force replaces a regular file; without it an existing file is kept', async () => {
    const { dir, id, data } = await stored()
    writeFileSync(join(dir, 'out'), 'old')
    const kept = await runCli(['get', id, 'out'], { cwd: dir })
    expect(kept.code).toBe(2)
    expect(kept.stderr).toContain('out already exists')
    expect(readFileSync(join(dir, 'out'), 'utf8')).toBe('old')
    expect((await runCli(['get', '--force', id, 'out'], { cwd: dir })).code).toBe(0)
    expect(readFileSync(join(dir, 'out')).equals(data)).toBe(true)
  })

  test('"-" streams the file to standard output; --json is refused there', async () => {
    const { dir, id, data } = await stored(3 * MiB)
    const r = await getToFile(dir, [id, '-'], join(dir, 'piped'))
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(readFileSync(join(dir, 'piped')).equals(data)).toBe(true)
    const json = await runCli(['--json', 'get', id, '-'], { cwd: dir })
    expect(json.code).toBe(2)
    expect(json.stdout).toBe('')
  })

  test('"-" with a damaged chunk: exit 1 naming the chunk, and only a correct prefix was written', async () => {
    const { dir, id, data } = await stored(3 * MiB)
    const pack = onlyPack(join(dir, '.mlvc/store'))
    damageFile(pack, Math.floor(statSync(pack).size / 2))
    const r = await getToFile(dir, [id, '-'], join(dir, 'piped'))
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/mlvc: chunk \S+ at offset \d+ of pack \S+ is damaged/)
    const out = readFileSync(join(dir, 'piped'))
    expect(out.length).toBeLessThan(data.length)
    expect(out.equals(data.subarray(0, out.length))).toBe(true)
  })
})
