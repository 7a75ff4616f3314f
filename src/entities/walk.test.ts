import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../test-helpers/index.ts'
import { comparePaths } from './manifest.ts'
import { under, walkEntity } from './walk.ts'

describe('entity folder walk', () => {
  it('yields files in manifest order, folders included, metadata at the top skipped', () => {
    const root = tempDir('mlvc-walk')
    const paths = ['a-b', 'a/b.x', 'a/b-c/d', 'a/b/c', 'a.b', 'a0', 'b/MANIFEST', 'é/x', 'z z']
    for (const p of paths) {
      mkdirSync(join(root, p, '..'), { recursive: true })
      writeFileSync(join(root, p), p)
    }
    writeFileSync(join(root, 'MANIFEST'), '')
    writeFileSync(join(root, 'x.spec'), '')
    const walked = [...walkEntity(root, new Set(['MANIFEST', 'x.spec']))].map((f) => f.path)
    expect(walked).toEqual([...paths].sort(comparePaths))
  })

  it('refuses a symbolic link, naming it', () => {
    const root = tempDir('mlvc-walk-link')
    writeFileSync(join(root, 'real'), 'x')
    symlinkSync('/etc/passwd', join(root, 'link'))
    expect(() => [...walkEntity(root, new Set())]).toThrow(
      expect.objectContaining({ code: 'UNSAFE_PATH', message: expect.stringContaining('link') }),
    )
  })

  it('selects paths under prefixes', () => {
    expect(under('a/b/c', ['a/b'])).toBe(true)
    expect(under('a/bc', ['a/b'])).toBe(false)
    expect(under('x', undefined)).toBe(true)
  })
})
