import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { CLI, runCli, runCommand, tempDir, writeRandomFile } from '../test-helpers/index.ts'

const MiB = 1024 * 1024
const root = tempDir('mlvc-cli')
let n = 0

/** A fresh folder with `mlvc init` done; returns its path. */
async function initFolder(): Promise<string> {
  const dir = join(root, `repo-${n++}`)
  mkdirSync(dir)
  const init = await runCli(['init'], { cwd: dir })
  expect(init.code).toBe(0)
  return dir
}

async function putJson(
  dir: string,
  files: string[],
): Promise<Array<{ id: string; newBytes: number }>> {
  const result = await runCli(['--json', 'put', ...files], { cwd: dir })
  expect(result.stderr).toBe('')
  expect(result.code).toBe(0)
  return JSON.parse(result.stdout)
}

async function expectFsckClean(dir: string): Promise<void> {
  const fsck = await runCli(['--json', 'fsck'], { cwd: dir })
  const report = JSON.parse(fsck.stdout) as { issues: Array<{ severity: string }> }
  expect(report.issues.filter((i) => i.severity === 'error')).toEqual([])
  expect(fsck.code).toBe(0)
}

/** Sends `signal` once the store has taken `bytes` of pack data, then waits for the exit. */
function killDuring(dir: string, args: string[], signal: NodeJS.Signals, bytes: number) {
  return new Promise<{ code: number | null; signal: string | null; stderr: string }>((done) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: dir })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    const packs = join(dir, '.mlvc/store/packs')
    const timer = setInterval(() => {
      const written = readdirSync(packs)
        .filter((f) => f.endsWith('.pack'))
        .reduce((sum, f) => sum + statSync(join(packs, f)).size, 0)
      if (written >= bytes) {
        clearInterval(timer)
        child.kill(signal)
      }
    }, 2)
    child.on('close', (code, sig) => {
      clearInterval(timer)
      done({ code, signal: sig, stderr })
    })
  })
}

describe('mlvc CLI: put, get, fsck, gc', () => {
  test('--version, --help, and a command outside any repository', async () => {
    const version = await runCli(['--version'])
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/)
    const help = await runCli(['put', '--help'])
    expect(help.stdout).toContain('store files; print the id of each')
    const outside = join(root, 'outside')
    mkdirSync(outside)
    const put = await runCli(['put', 'x'], {
      cwd: outside,
      env: { ...process.env, MLVC_STORE: '' },
    })
    expect(put.code).toBe(1)
    expect(put.stderr).toMatch(
      /^mlvc: .*outside is not inside a Git repository or an mlvc folder\n {2}hint: run mlvc init/,
    )
  })

  test('put prints ids, get restores byte for byte, fsck is clean, gc keeps pinned files', async () => {
    const dir = await initFolder()
    const data = writeRandomFile(join(dir, 'weights.bin'), 20 * MiB, 1)
    const put = await runCli(['put', 'weights.bin'], { cwd: dir })
    expect(put.code).toBe(0)
    const [id, name] = put.stdout.trim().split(/\s+/)
    expect(name).toBe('weights.bin')
    expect(id).toMatch(/^bagaaiera[a-z2-7]+$/)
    const get = await runCli(['get', id as string, 'restored.bin'], { cwd: dir })
    expect(get.code).toBe(0)
    expect(readFileSync(join(dir, 'restored.bin')).equals(data)).toBe(true)
    const again = await runCli(['get', id as string, 'restored.bin'], { cwd: dir })
    expect(again.code).toBe(2)
    expect(again.stderr).toContain('restored.bin already exists')
    await expectFsckClean(dir)
    const gc = await runCli(['--json', 'gc'], { cwd: dir })
    expect(JSON.parse(gc.stdout).objectsRemoved).toBe(0)
    const pins = await runCli(['pin'], { cwd: dir })
    expect(pins.stdout.trim()).toBe(id)
  })

  test('bad input: an id that does not parse, a missing file, a directory', async () => {
    const dir = await initFolder()
    const bad = await runCli(['get', 'not-an-id', 'out'], { cwd: dir })
    expect(bad.code).toBe(2)
    expect(bad.stderr.split('\n')[0]).toBe('mlvc: "not-an-id" is not a valid object id')
    const missing = await runCli(['put', 'nope.bin'], { cwd: dir })
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/nope\.bin: no such file or directory/)
    mkdirSync(join(dir, 'folder'))
    const folder = await runCli(['put', 'folder'], { cwd: dir })
    expect(folder.code).not.toBe(0)
    expect(folder.stderr).toMatch(/folder.*is a directory/)
  })
})

describe('crash safety and concurrency (real processes)', () => {
  test('two processes storing into one store at once: both succeed, fsck clean, all restorable', async () => {
    const dir = await initFolder()
    const shared = writeRandomFile(join(dir, 'shared.bin'), 24 * MiB, 7)
    const a = writeRandomFile(join(dir, 'a.bin'), 24 * MiB, 8)
    const b = writeRandomFile(join(dir, 'b.bin'), 24 * MiB, 9)
    const [ra, rb] = await Promise.all([
      putJson(dir, ['shared.bin', 'a.bin']),
      putJson(dir, ['b.bin', 'shared.bin']),
    ])
    expect(ra?.[0]?.id).toBe(rb?.[1]?.id)
    await expectFsckClean(dir)
    const expected: Array<[string, Buffer]> = [
      [ra?.[0]?.id as string, shared],
      [ra?.[1]?.id as string, a],
      [rb?.[0]?.id as string, b],
    ]
    for (const [i, [id, data]] of expected.entries()) {
      expect((await runCli(['get', id, `out-${i}`], { cwd: dir })).code).toBe(0)
      expect(readFileSync(join(dir, `out-${i}`)).equals(data)).toBe(true)
    }
  })

  test('SIGKILL halfway through a put: fsck clean, earlier objects intact, the next put completes', async () => {
    const dir = await initFolder()
    const small = writeRandomFile(join(dir, 'small.bin'), 3 * MiB, 11)
    const [before] = await putJson(dir, ['small.bin'])
    const big = writeRandomFile(join(dir, 'big.bin'), 160 * MiB, 12)
    const killed = await killDuring(dir, ['put', 'big.bin'], 'SIGKILL', 40 * MiB)
    expect(killed.signal).toBe('SIGKILL')
    await expectFsckClean(dir)
    expect((await runCli(['get', before?.id as string, 'small.out'], { cwd: dir })).code).toBe(0)
    expect(readFileSync(join(dir, 'small.out')).equals(small)).toBe(true)
    const [after] = await putJson(dir, ['big.bin'])
    const got = await runCli(['get', after?.id as string, 'big.out'], { cwd: dir })
    expect(got.code, got.stderr).toBe(0)
    expect(readFileSync(join(dir, 'big.out')).equals(big)).toBe(true)
    await expectFsckClean(dir)
  })

  test('Ctrl-C during a put: exit 130 with one line, store clean', async () => {
    const dir = await initFolder()
    writeRandomFile(join(dir, 'big.bin'), 160 * MiB, 13)
    const interrupted = await killDuring(dir, ['put', 'big.bin'], 'SIGINT', 16 * MiB)
    expect(interrupted.code).toBe(130)
    expect(interrupted.stderr.trim()).toMatch(/^mlvc: interrupted while storing .*big\.bin$/)
    await expectFsckClean(dir)
  })
})

describe('a full disk and a read-only store', () => {
  test('the disk fills up halfway: a clear error, fsck clean, nothing lost', async () => {
    const dir = await initFolder()
    writeRandomFile(join(dir, 'big.bin'), 40 * MiB, 21)
    writeRandomFile(join(dir, 'small.bin'), 2 * MiB, 22)
    const mnt = join(dir, 'mnt')
    mkdirSync(mnt)
    // A 24 MiB tmpfs in a private mount namespace (no root needed where user namespaces are on).
    const script = [
      `mount -t tmpfs -o size=24m tmpfs ${mnt}`,
      `export MLVC_STORE=${mnt}/store`,
      `node ${CLI} put small.bin > small.id || exit 10`,
      `node ${CLI} put big.bin 2> full.err; echo $? > full.code`,
      `node ${CLI} --json fsck > fsck.json; echo $? > fsck.code`,
      `node ${CLI} get $(cut -d' ' -f1 small.id) small.out || exit 11`,
    ].join('\n')
    const run = await runCommand('unshare', ['-rm', 'sh', '-c', script], { cwd: dir })
    expect(run.code).toBe(0)
    expect(readFileSync(join(dir, 'full.code'), 'utf8').trim()).toBe('1')
    expect(readFileSync(join(dir, 'full.err'), 'utf8')).toMatch(
      /^mlvc: writing pack .*: no space left on device\n {2}hint: free some space/,
    )
    expect(readFileSync(join(dir, 'fsck.code'), 'utf8').trim()).toBe('0')
    expect(readFileSync(join(dir, 'small.out')).equals(readFileSync(join(dir, 'small.bin')))).toBe(
      true,
    )
  })

  test('a store folder without write permission: permission denied, naming it', async () => {
    const dir = await initFolder()
    writeRandomFile(join(dir, 'w.bin'), MiB, 31)
    const packs = join(dir, '.mlvc/store/packs')
    // The packs folder read-only in a private mount namespace: refused even to root, and no other
    // user needs to read this checkout.
    const script = [
      `mount --bind ${packs} ${packs}`,
      `mount -o remount,ro,bind ${packs}`,
      `node ${CLI} put w.bin 2> put.err; echo $? > put.code`,
    ].join('\n')
    const run = await runCommand('unshare', ['-rm', 'sh', '-c', script], { cwd: dir })
    expect(run.code, run.stderr).toBe(0)
    expect(readFileSync(join(dir, 'put.code'), 'utf8').trim()).toBe('1')
    expect(readFileSync(join(dir, 'put.err'), 'utf8')).toMatch(
      /^mlvc: creating pack .*packs\/pack-[\w-]+\.pack: permission denied/,
    )
    expect(existsSync(join(dir, 'w.bin'))).toBe(true)
    await expectFsckClean(dir)
  })
})

test('an empty file round-trips', async () => {
  const dir = await initFolder()
  writeFileSync(join(dir, 'empty'), '')
  const [r] = await putJson(dir, ['empty'])
  expect((await runCli(['get', r?.id as string, 'empty.out'], { cwd: dir })).code).toBe(0)
  expect(readFileSync(join(dir, 'empty.out')).length).toBe(0)
})
