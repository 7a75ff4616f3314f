import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { formatId, sha256Digest } from '../store/index.ts'
import { tempDir } from '../test-helpers/index.ts'
import { joinByPath } from './join.ts'
import { type ManifestEntry, pathProblem, readManifestFile, writeManifestFile } from './manifest.ts'

const dir = tempDir('mlvc-manifest')
const id = (n: number) => formatId('manifest', sha256Digest(Buffer.from(String(n))))

describe('entity manifest', () => {
  it('round-trips entries in path order, one line each', () => {
    const entries: ManifestEntry[] = ['a b/c.png', 'a-b', 'a/b', 'z'].map((path, i) => ({
      path,
      id: id(i),
      size: i * 10,
      mode: i === 3 ? 0o755 : 0o644,
    }))
    entries.sort((a, b) => (a.path < b.path ? -1 : 1))
    const file = join(dir, 'M1')
    expect(writeManifestFile(file, entries)).toEqual({ count: 4, bytes: 60 })
    expect([...readManifestFile(file)]).toEqual(entries)
  })

  it.each([
    ['../etc/passwd', 'UNSAFE_PATH'],
    ['/etc/passwd', 'UNSAFE_PATH'],
    ['a/../../x', 'UNSAFE_PATH'],
    ['a//b', 'UNSAFE_PATH'],
    ['./a', 'UNSAFE_PATH'],
    ['C:/x', 'UNSAFE_PATH'],
  ])('refuses a line naming %s', (path, code) => {
    const file = join(dir, 'bad')
    writeFileSync(file, `mlvc-manifest 1\n${path}\t${id(1)}\t3\t644\n`)
    expect(() => [...readManifestFile(file)]).toThrow(expect.objectContaining({ code }))
  })

  it.each([
    ['a\tnot-an-id\t3\t644', 'line 2'],
    [`a\t${id(1)}\t-3\t644`, 'bad size'],
    [`a\t${id(1)}\t3\t777`, 'mode'],
    [`b\t${id(1)}\t3\t644\na\t${id(2)}\t3\t644`, 'out of order'],
    [`a\t${id(1)}\t3\t644\na\t${id(2)}\t3\t644`, 'repeats'],
  ])('refuses a damaged line with BAD_SPEC naming the file and line (%#)', (body, what) => {
    const file = join(dir, 'bad2')
    writeFileSync(file, `mlvc-manifest 1\n${body}\n`)
    expect(() => [...readManifestFile(file)]).toThrow(
      expect.objectContaining({ code: 'BAD_SPEC', message: expect.stringContaining(what) }),
    )
  })

  it('names what is wrong with a path, and accepts ordinary ones', () => {
    expect(pathProblem('images/0001.png')).toBeNull()
    expect(pathProblem('a\nb')).toMatch(/control/)
    expect(pathProblem('a\\b')).toMatch(/backslash/)
  })

  it('joins sorted streams by path', () => {
    const a = [{ path: 'a' }, { path: 'c' }]
    const b = [{ path: 'b' }, { path: 'c' }]
    expect([...joinByPath(a, b)]).toEqual([
      [{ path: 'a' }, undefined],
      [undefined, { path: 'b' }],
      [{ path: 'c' }, { path: 'c' }],
    ])
  })
})
