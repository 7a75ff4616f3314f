import { describe, expect, test } from 'vitest'
import { jsonLog, linesPerTurn, redact } from './log.ts'
import { checkName } from './names.ts'
import { parseRange } from './objects-http.ts'
import { repoPath } from './server.ts'

describe('logs', () => {
  test('never hold a token, a password in a URL, or an Authorization value', () => {
    const lines: string[] = []
    const log = jsonLog((line) => lines.push(line))
    log.info('pushing to https://bot:s3cret@github.com/x/y.git with mlvc_abcdefghijklmnop', {
      authorization: 'Basic YWRhOnRva2Vu',
      token: 'mlvc_zzzzzzzzzzzz',
      header: 'Bearer abc.def',
      repo: 'ada/models',
    })
    const text = lines.join('')
    expect(text).not.toMatch(/s3cret|mlvc_a|mlvc_z|YWRhOnRva2Vu|abc\.def/)
    expect(JSON.parse(text)).toMatchObject({ level: 'info', repo: 'ada/models' })
    expect(redact('https://u:p@h/x')).toBe('https://***@h/x')
  })
})

describe('log lines', () => {
  test('of one turn of the event loop are written together, in order', async () => {
    const writes: string[] = []
    const write = linesPerTurn((text) => writes.push(text))
    write('a\n')
    write('b\n')
    expect(writes).toEqual([])
    await new Promise((done) => setImmediate(done))
    write('c\n')
    await new Promise((done) => setImmediate(done))
    expect(writes).toEqual(['a\nb\n', 'c\n'])
  })
})

describe('requests', () => {
  test('repository paths: names checked, .git optional', () => {
    expect(repoPath('/ada/models.git/info/refs')).toEqual({
      owner: 'ada',
      name: 'models',
      rest: 'info/refs',
    })
    expect(repoPath('/ada/models')).toEqual({ owner: 'ada', name: 'models', rest: '' })
    expect(repoPath('/../etc/passwd')).toBeUndefined()
    expect(repoPath('/ada/m\u00e9')).toBeUndefined()
    expect(() => checkName('x/y', 'repository')).toThrow(/not a valid repository name/)
  })

  test('ranges', () => {
    expect(parseRange(undefined, 10)).toBeUndefined()
    expect(parseRange('bytes=2-4', 10)).toEqual({ start: 2, end: 4 })
    expect(parseRange('bytes=2-', 10)).toEqual({ start: 2, end: 9 })
    expect(parseRange('bytes=8-100', 10)).toEqual({ start: 8, end: 9 })
    expect(() => parseRange('bytes=10-', 10)).toThrow()
    expect(() => parseRange('bytes=-5', 10)).toThrow()
  })
})
