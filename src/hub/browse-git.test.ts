import { describe, expect, test } from 'vitest'
import { checkPath, checkRev } from './browse-git.ts'

describe('revisions and paths from URLs', () => {
  test('branch names, tags, commit ids and ancestry suffixes pass', () => {
    for (const rev of [
      'main',
      'feature/x',
      'v1.2.0',
      'a'.repeat(40),
      'main~2',
      'HEAD^',
      'main@{1}',
    ])
      expect(checkRev(rev)).toBe(rev)
  })

  test('what git could read as an option, a range or anything odd is a 400 USAGE naming it', () => {
    for (const rev of ['--output=/tmp/x', '-n', 'main..evil', 'a b', '', 'x\0y', ':/message']) {
      let error: unknown
      try {
        checkRev(rev)
      } catch (err) {
        error = err
      }
      expect(error, rev).toMatchObject({ code: 'USAGE', status: 400 })
      expect((error as Error).message).toContain('invalid revision')
    }
  })

  test('paths: slashes at the ends are dropped; `..`, `.` and NUL are refused', () => {
    expect(checkPath('/a/b/')).toBe('a/b')
    expect(checkPath('')).toBe('')
    for (const path of ['../etc/passwd', 'a/../../b', './a', 'a\0b'])
      expect(() => checkPath(path), path).toThrow(/invalid path/)
  })
})
