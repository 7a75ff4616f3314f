import { describe, expect, it } from 'vitest'
import { fileError, MlvcError, naming } from './errors.ts'

describe('errors about one file', () => {
  it('keep the file and what is wrong with it as fields, and say both in the message', () => {
    const err = fileError('BAD_STUB', 'models/a.bin', 'malformed mlvc stub (x)', { hint: 'h' })
    expect(err.message).toBe('models/a.bin: malformed mlvc stub (x)')
    expect([err.code, err.path, err.detail, err.hint]).toEqual([
      'BAD_STUB',
      'models/a.bin',
      'malformed mlvc stub (x)',
      'h',
    ])
  })

  it('name the file once: as they are when about it, else prefixed with it', () => {
    expect(naming(fileError('CORRUPT', 'a.bin', 'damaged'), 'a.bin')).toBe('a.bin: damaged')
    // The path inside a message is not the error's file: only the field counts.
    const other = new MlvcError('IO', 'writing a.bin: no such file or directory')
    expect(naming(other, 'a.bin')).toBe('a.bin: writing a.bin: no such file or directory')
    expect(naming(fileError('CORRUPT', 'b.bin', 'damaged'), 'a.bin')).toBe('a.bin: b.bin: damaged')
    expect(naming(new Error('boom'), 'a.bin')).toBe('a.bin: boom')
    expect(naming(new MlvcError('IO', 'a.bin changed', { path: 'a.bin' }), 'a.bin')).toBe(
      'a.bin changed',
    )
  })
})
