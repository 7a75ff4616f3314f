import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../test-helpers/index.ts'
import { nestedDeeperThan } from './dbx-json.ts'
import { fsckRepo } from './fsck.ts'
import { openExpRepo } from './repo.ts'
import { loadExperiments } from './scan.ts'
import { copyFixture } from './test-helpers/index.ts'

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`

describe('meta.json nested deeper than any run writes', () => {
  it('measures depth without recursion', () => {
    expect(nestedDeeperThan(JSON.parse(nested(100)), 100)).toBe(false)
    expect(nestedDeeperThan(JSON.parse(nested(101)), 100)).toBe(true)
    expect(nestedDeeperThan({ a: [1, { b: 'x' }] }, 3)).toBe(false)
    expect(nestedDeeperThan(JSON.parse(nested(200_000)), 100)).toBe(true)
  })

  // A 200 KB meta.json of nested brackets parsed fine, then overflowed the stack in every command
  // that printed its params (exp list, show, compare, --json).
  it('is a problem naming the file; the other experiments load', async () => {
    const root = copyFixture(tempDir('mlvc-meta'))
    const path = join(root, 'j482_fuzxvAbC/meta.json')
    const text = readFileSync(path, 'utf8').replace(
      '"params": {',
      `"params": {"deep": ${nested(100_000)},`,
    )
    writeFileSync(path, text)
    const repo = await openExpRepo(root)
    const { experiments, problems } = await loadExperiments(repo)
    expect(experiments.map((e) => e.id).sort()).toEqual(['fjd08ayvu_xk2', 'uv89_kxzfQ0a'])
    expect(problems).toEqual([{ path, message: `${path}: nested deeper than 100 levels` }])
    const fsck = await fsckRepo(repo)
    expect(fsck.issues).toContainEqual({
      severity: 'error',
      path,
      message: `${path}: nested deeper than 100 levels`,
    })
  })
})
