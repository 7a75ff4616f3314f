import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { f32Model, randomF32 } from '../checkpoint/test-helpers/index.ts'
import { gitSandbox } from '../test-helpers/git.ts'
import { tempDir } from '../test-helpers/index.ts'

const root = tempDir('mlvc-inspect-e2e')
const ada = gitSandbox(root, 'ada')

beforeAll(async () => {
  const install = await ada.mlvc(root, 'install')
  expect(install.code, install.stderr).toBe(0)
})

/** A safetensors file whose last tensor is cut short. */
function writeCut(path: string): void {
  const model = f32Model({ a: randomF32(16, 1) })
  writeFileSync(path, model.subarray(0, model.length - 8))
}

describe('mlvc inspect of a file it cannot read', () => {
  test('says why: the reader of a plain file, the note of a stored one', async () => {
    const dir = join(root, 'repo')
    mkdirSync(dir)
    await ada.git(dir, 'init', '-q')
    expect((await ada.mlvc(dir, 'track', '*.safetensors')).code).toBe(0)
    writeCut(join(dir, 'cut.safetensors'))
    const plain = await ada.mlvc(root, 'inspect', join(dir, 'cut.safetensors'))
    expect(plain.code).toBe(1)
    const reason = 'tensor a ends at 128, past the end of the file (120 bytes)'
    expect(plain.stderr).toContain(`: not a checkpoint mlvc can read: ${reason}\n`)
    await ada.git(dir, 'add', '.')
    await ada.git(dir, 'commit', '-qm', 'cut')
    expect(await ada.git(dir, 'show', 'HEAD:cut.safetensors')).toContain(
      `note: stored as a plain file`,
    )
    const stored = await ada.mlvc(dir, 'inspect', 'HEAD:cut.safetensors')
    expect(stored.code).toBe(1)
    expect(stored.stderr).toMatch(
      `mlvc: cut.safetensors: not a checkpoint mlvc can read: stored as a plain file: ${reason}\n`,
    )
  })
})
