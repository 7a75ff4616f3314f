import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT } from './test-helpers/index.ts'

/**
 * docs/architecture.md names files and tests so that a reader can go straight to them: a rename
 * that leaves the page behind fails here.
 */
const DOC = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8')

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : [e.name],
  )
}

describe('docs/architecture.md', () => {
  it('names only files that exist', () => {
    const names = new Set([...sourceFiles(join(ROOT, 'src')), ...sourceFiles(join(ROOT, 'bench'))])
    for (const [, path = ''] of DOC.matchAll(/`([\w./-]+\.(?:ts|py|md))`/g)) {
      const found = path.includes('/')
        ? [path, join('src', path), join('docs', path)].some((p) => existsSync(join(ROOT, p)))
        : names.has(basename(path)) || existsSync(join(ROOT, path))
      expect(found, path).toBe(true)
    }
  })

  it('names only tests that exist, in the files it says', () => {
    let count = 0
    for (const [, file = '', quoted = ''] of DOC.matchAll(
      /`([\w/.-]+\.test\.ts)`[^"\n]*((?:"[^"\n]+"(?:, )?)+)/g,
    )) {
      const source = readFileSync(
        join(ROOT, file.startsWith('src/') ? file : join('src', file)),
        'utf8',
      )
      for (const [, name = ''] of quoted.matchAll(/"([^"]+)"/g)) {
        expect(source, `${file}: ${name}`).toContain(name)
        count++
      }
    }
    expect(count).toBeGreaterThan(20)
  })
})
