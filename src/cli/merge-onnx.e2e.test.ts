import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { randomF32 } from '../checkpoint/test-helpers/index.ts'
import { buildOnnx } from '../formats/test-helpers/builders.ts'
import { gitSandbox } from '../test-helpers/git.ts'
import { tempDir } from '../test-helpers/index.ts'

const root = tempDir('mlvc-merge-onnx')
const user = gitSandbox(root, 'onnx')
let n = 0

interface Version {
  /** Inline tensor b (F32 [16]), in model.onnx. */
  b: Buffer
  /** External tensor w (F32 [64, 64]), all of model.data. */
  w: Buffer
}

function writeModel(dir: string, v: Version): void {
  writeFileSync(
    join(dir, 'model.onnx'),
    buildOnnx([
      { name: 'w', dims: [64, 64], external: { location: 'model.data', offset: 0, length: 16384 } },
      { name: 'b', dims: [16], data: v.b },
    ]),
  )
  writeFileSync(join(dir, 'model.data'), v.w)
}

/** main: base; `left` and `right` change the model differently; `left` checked out. */
async function divergedRepo(left: Version, right: Version): Promise<string> {
  const dir = join(root, `repo-${n++}`)
  mkdirSync(dir)
  await user.git(dir, 'init', '-q')
  writeFileSync(
    join(dir, '.gitattributes'),
    ['*.onnx', '*.data'].map((p) => `${p} filter=mlvc diff=mlvc merge=mlvc -text\n`).join(''),
  )
  writeModel(dir, { b: randomF32(16, 1), w: randomF32(4096, 2) })
  await user.git(dir, 'add', '.')
  await user.git(dir, 'commit', '-qm', 'base')
  await user.git(dir, 'checkout', '-qb', 'left')
  writeModel(dir, left)
  await user.git(dir, 'commit', '-qam', 'left')
  await user.git(dir, 'checkout', '-qb', 'right', 'main')
  writeModel(dir, right)
  await user.git(dir, 'commit', '-qam', 'right')
  await user.git(dir, 'checkout', '-q', 'left')
  return dir
}

const KEEP_ONE_SIDE =
  "git checkout --theirs -- 'model.data' 'model.onnx' && git add 'model.data' 'model.onnx'"

beforeAll(async () => {
  expect((await user.mlvc(root, 'install')).code).toBe(0)
})

describe('git merge of an ONNX model whose tensors live in external data', () => {
  test('only the data changed on both sides: a conflict that names the model and says to keep one side of both', async () => {
    const b = randomF32(16, 1)
    const right = { b, w: randomF32(4096, 4) }
    const dir = await divergedRepo({ b, w: randomF32(4096, 3) }, right)
    const merge = await user.gitResult(dir, 'merge', '--no-edit', 'right')
    expect(merge.code).toBe(1)
    expect(merge.stderr).toContain(
      'mlvc: conflict in model.data: both sides changed it; it holds tensors of model.onnx (ONNX external data), which mlvc does not merge tensor by tensor; the work tree has our version.',
    )
    expect(merge.stderr).toContain(KEEP_ONE_SIDE)
    expect(merge.stderr).not.toContain('mlvc resolve')
    expect(await user.git(dir, 'status', '--porcelain')).toBe('UU model.data\n')
    const resolve = await user.mlvc(dir, 'resolve', 'model.data', '--strategy', 'average')
    expect(resolve.code).toBe(2)
    expect(resolve.stderr).toContain(
      'mlvc: model.data: it holds tensors of model.onnx (ONNX external data), which mlvc does not merge tensor by tensor',
    )
    expect(resolve.stderr).toContain(KEEP_ONE_SIDE)
    // What the hint says works: theirs of both, consistent with each other.
    await user.git(dir, 'checkout', '--theirs', '--', 'model.data', 'model.onnx')
    await user.git(dir, 'add', 'model.data', 'model.onnx')
    await user.git(dir, 'commit', '-qm', 'merged')
    expect(readFileSync(join(dir, 'model.data')).equals(right.w)).toBe(true)
    expect(await user.git(dir, 'status', '--porcelain')).toBe('')
  })

  test('the model and its data changed on both sides: both conflict, and resolve says why', async () => {
    const dir = await divergedRepo(
      { b: randomF32(16, 5), w: randomF32(4096, 6) },
      { b: randomF32(16, 7), w: randomF32(4096, 8) },
    )
    const merge = await user.gitResult(dir, 'merge', '--no-edit', 'right')
    expect(merge.code).toBe(1)
    expect(merge.stderr).toContain(
      'mlvc: conflict in model.onnx: the work tree has our version.\n  (file): its tensors live in external data (model.data), which mlvc does not merge tensor by tensor',
    )
    expect(merge.stderr).toContain(
      "git checkout --theirs -- 'model.onnx' 'model.data' && git add 'model.onnx' 'model.data'",
    )
    expect(merge.stderr).toContain('mlvc: conflict in model.data: both sides changed it;')
    expect(await user.git(dir, 'status', '--porcelain')).toBe('UU model.data\nUU model.onnx\n')
    const resolve = await user.mlvc(dir, 'resolve', 'model.onnx', '--strategy', 'average')
    expect(resolve.code).toBe(2)
    expect(resolve.stderr).toContain('its tensors live in external data (model.data)')
    expect(resolve.stderr).toContain('hint: keep one side of all of them: git checkout --theirs --')
  })
})
