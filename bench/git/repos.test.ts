import { describe, expect, it } from 'vitest'
import { smallFileCount, smallFileName } from './files.ts'
import { subjectOf } from './repos.ts'

describe('subjects', () => {
  it('names a command per tool, git-annex by its own verb', () => {
    expect(subjectOf('git add', 'mlvc')).toBe('git add (mlvc)')
    expect(subjectOf('git add', 'git-lfs')).toBe('git add (git-lfs)')
    expect(subjectOf('git add', 'git-annex')).toBe('git annex add')
    expect(subjectOf('git clone', 'mlvc', '1000 files of 1 MiB')).toBe(
      'git clone (mlvc), 1000 files of 1 MiB',
    )
  })
})

describe('small files', () => {
  it('are 1,000 at full size and fewer, at least one, for smaller inputs', () => {
    expect(smallFileCount(2 ** 30)).toBe(1000)
    expect(smallFileCount(4 * 2 ** 30)).toBe(1000)
    expect(smallFileCount(64 * 2 ** 20)).toBe(64)
    expect(smallFileCount(1000)).toBe(1)
  })

  it('sort in creation order inside one folder', () => {
    expect(smallFileName(7)).toBe('files/f0007.bin')
    expect(smallFileName(999) > smallFileName(100)).toBe(true)
  })
})
