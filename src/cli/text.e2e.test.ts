import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { f32Model, randomF32 } from '../checkpoint/test-helpers/index.ts'
import { copyFixture } from '../experiments/test-helpers/index.ts'
import { gitSandbox } from '../test-helpers/git.ts'
import { tempDir } from '../test-helpers/index.ts'

// Names that files and repositories bring: printed raw, they clear the screen, set the window
// title, or fake lines of output.
const TENSOR = '\x1b[2J\x1b]0;title\x07'
const TENSOR_QUOTED = '"\\033[2J\\033]0;title\\a"'
const PATH = 'evil\n\x1b[31mred.bin'
const PATH_QUOTED = '"evil\\n\\033[31mred.bin"'

const root = tempDir('mlvc-text-e2e')
const ada = gitSandbox(root, 'ada')

/** No byte a terminal acts on, other than line ends (the sandbox has no terminal: no colors). */
function expectInert(...outputs: string[]): void {
  for (const out of outputs) expect(out).not.toMatch(/(?!\n)\p{Cc}/u)
}

beforeAll(async () => {
  const install = await ada.mlvc(root, 'install')
  expect(install.code, install.stderr).toBe(0)
})

describe('text from files reaches the terminal quoted', () => {
  test('tensor names in mlvc inspect and mlvc diff; paths in status and ls-files', async () => {
    const dir = join(root, 'repo')
    await ada.git(root, 'init', '-q', dir)
    expect((await ada.mlvc(dir, 'track', '*.safetensors', '*.bin')).code).toBe(0)
    const model = join(dir, 'model.safetensors')
    writeFileSync(model, f32Model({ [TENSOR]: randomF32(8, 1), plain: randomF32(8, 2) }))
    writeFileSync(join(dir, PATH), 'weights\n')
    await ada.git(dir, 'add', '.')
    await ada.git(dir, 'commit', '-qm', 'v1')

    const inspect = await ada.mlvc(dir, 'inspect', 'model.safetensors')
    expect(inspect.code, inspect.stderr).toBe(0)
    expect(inspect.stdout).toMatch(new RegExp(`^ {2}${escapeRegExp(TENSOR_QUOTED)} +F32 `, 'm'))
    writeFileSync(model, f32Model({ [TENSOR]: randomF32(8, 3), plain: randomF32(8, 2) }))
    const diff = await ada.mlvc(dir, 'diff')
    expect(diff.code, diff.stderr).toBe(0)
    expect(diff.stdout).toMatch(
      new RegExp(`^ {2}changed +${escapeRegExp(TENSOR_QUOTED)} +F32 `, 'm'),
    )

    const status = await ada.mlvc(dir, 'status')
    expect(status.stdout).toMatch(new RegExp(` {2}${escapeRegExp(PATH_QUOTED)}$`, 'm'))
    const ls = await ada.mlvc(dir, 'ls-files')
    expect(ls.stdout).toMatch(new RegExp(` {2}${escapeRegExp(PATH_QUOTED)}$`, 'm'))
    expect(ls.stdout.trim().split('\n')).toHaveLength(2)
    // --json stays JSON, with the names exact.
    const json = JSON.parse((await ada.mlvc(dir, '--json', 'ls-files')).stdout)
    expect(json.map((f: { path: string }) => f.path).sort()).toEqual([PATH, 'model.safetensors'])
    expectInert(inspect.stdout, inspect.stderr, diff.stdout, diff.stderr, status.stdout, ls.stdout)
  })

  test('experiment params, metric keys and event names under mlvc exp', async () => {
    const repo = copyFixture(tempDir('mlvc-text-exp'))
    const dir = join(repo, 'cifar10/simple_idea/uv89_kxzfQ0a')
    const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'))
    meta.params = { ...meta.params, [TENSOR]: 1, note: 'line\r\x1b[Kfake' }
    writeFileSync(join(dir, 'meta.json'), JSON.stringify(meta))
    writeFileSync(
      join(dir, 'log.jsonl'),
      `${JSON.stringify({ event: TENSOR, [TENSOR]: 0.5, step: 1 })}\n`,
    )
    const run = (...args: string[]) =>
      ada.mlvc(repo, ...args).then((r) => {
        expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(0)
        expectInert(r.stdout, r.stderr)
        return r.stdout
      })
    const show = await run('exp', 'show', 'uv89')
    expect(show).toContain(TENSOR_QUOTED)
    expect(show).toContain('"line\\r\\033[Kfake"')
    expect(await run('exp', 'list', 'cifar10/', '-c', 'note')).toContain('"line\\r\\033[Kfake"')
    expect(await run('exp', 'metrics', 'uv89')).toContain(TENSOR_QUOTED)
    expect(await run('exp', 'compare', 'uv89', 'fjd')).toContain(TENSOR_QUOTED)
  })
})

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
