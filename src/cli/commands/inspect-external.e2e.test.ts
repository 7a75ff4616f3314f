import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { buildExternalOnnx } from '../../formats/test-helpers/builders.ts'
import { runCli, tempDir } from '../../test-helpers/index.ts'

const f32 = (values: number[]) => Buffer.from(new Float32Array(values).buffer)

test('mlvc inspect does not follow an ONNX external data link out of the model folder', async () => {
  const root = tempDir('mlvc-inspect-ext')
  const secret = join(root, 'secret')
  writeFileSync(secret, f32([1, 2, 3, 4]))
  const folder = join(root, 'model')
  mkdirSync(folder)
  writeFileSync(join(folder, 'm.onnx'), buildExternalOnnx('w', [4], 'link.data'))
  writeFileSync(join(folder, 'real.data'), f32([0, 1, 2, 3]))
  writeFileSync(join(folder, 'plain.onnx'), buildExternalOnnx('w', [4], 'real.data'))
  symlinkSync(secret, join(folder, 'link.data'))
  const plain = await runCli(['inspect', 'plain.onnx'], { cwd: folder })
  expect(plain.code).toBe(0)
  expect(plain.stdout).toMatch(/w\s+F32\s+\[4\]\s+16 B\s+1\.500e\+00/)
  const linked = await runCli(['inspect', 'm.onnx'], { cwd: folder })
  expect(linked.code).not.toBe(0)
  expect(linked.stdout).toBe('')
  expect(linked.stderr).not.toContain('2.500e+00')
})
