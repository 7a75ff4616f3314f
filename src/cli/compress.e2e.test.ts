import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { runCli, tempDir, writeRandomFile } from '../test-helpers/index.ts'

const root = tempDir('mlvc-cli-compress')

/** An mlvc folder holding a compressible log and a random file, put with store.compress as given. */
async function folderWithFiles(name: string, compress: boolean | undefined): Promise<string> {
  const dir = join(root, name)
  mkdirSync(dir)
  expect((await runCli(['init'], { cwd: dir })).code).toBe(0)
  if (compress !== undefined)
    writeFileSync(join(dir, '.mlvc', 'config.yaml'), `store:\n  compress: ${compress}\n`)
  writeFileSync(
    join(dir, 'log.txt'),
    'step 100: loss 2.345, lr 0.0003, tokens 409600\n'.repeat(40_000),
  )
  writeRandomFile(join(dir, 'random.bin'), 3 * 1024 * 1024, 1)
  expect((await runCli(['put', 'log.txt', 'random.bin'], { cwd: dir })).code).toBe(0)
  return dir
}

test('by default file content is stored raw (only metadata is deflated)', async () => {
  const dir = await folderWithFiles('default', undefined)
  const json = JSON.parse((await runCli(['--json', 'fsck'], { cwd: dir })).stdout)
  // The 1.9 MB log would shrink to a few kB if its content were compressed.
  expect(json.size - json.bytes).toBeLessThan(64 * 1024)
})

test('with store.compress, mlvc fsck says how much compression saved; random data saves nothing', async () => {
  const dir = await folderWithFiles('compressed', true)
  const fsck = await runCli(['fsck'], { cwd: dir })
  expect(fsck.code).toBe(0)
  expect(fsck.stdout).toMatch(
    /^ok: \d+ objects \([\d.]+ MiB stored for [\d.]+ MiB: \d+% saved by compression\) in 1 packs/m,
  )
  const json = JSON.parse((await runCli(['--json', 'fsck'], { cwd: dir })).stdout)
  // The log shrinks to a few percent; the random file not at all.
  expect(json.size - json.bytes).toBeGreaterThan(1.5 * 1024 * 1024)
  expect(json.bytes).toBeGreaterThan(3 * 1024 * 1024)
})
