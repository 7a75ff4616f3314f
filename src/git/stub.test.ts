import { expect, test } from 'vitest'
import { formatStub, parseStub, readStub } from './stub.ts'

const stub = {
  size: 1073741824,
  sha256: 'ab'.repeat(32),
  id: 'bagaaieraiqjw7i2vwntyuekgvulpp2det2kpwt6cd7tx5ayqybqpmhfk76fa',
}

test('golden stub text', () => {
  expect(formatStub(stub)).toBe(
    [
      '# mlvc stub v1: the data lives in the mlvc store; run `mlvc pull` if you see this in a work tree',
      'size: 1073741824',
      `sha256: ${'ab'.repeat(32)}`,
      'id: bagaaieraiqjw7i2vwntyuekgvulpp2det2kpwt6cd7tx5ayqybqpmhfk76fa',
      '',
    ].join('\n'),
  )
})

test('round trip, with extra lines kept verbatim', () => {
  expect(parseStub(Buffer.from(formatStub(stub)), 'f')).toEqual(stub)
  const rich = { ...stub, extra: ['format: safetensors', 'tensors:', '  - a F32 [2, 2]'] }
  const text = formatStub(rich)
  expect(parseStub(Buffer.from(text), 'f')).toEqual(rich)
  expect(formatStub(parseStub(Buffer.from(text), 'f') as typeof rich)).toBe(text)
})

test('content that is not a stub is not parsed', () => {
  expect(parseStub(Buffer.from('hello'), 'f')).toBeUndefined()
  expect(parseStub(Buffer.from(''), 'f')).toBeUndefined()
})

test('malformed and future stubs are clear errors naming the file', () => {
  const bad = formatStub(stub).replace('size: 1073741824', 'size: lots')
  expect(() => parseStub(Buffer.from(bad), 'model.bin')).toThrow(
    'model.bin: malformed mlvc stub (size "lots" is not a byte count)',
  )
  for (const size of ['', '1e3', ' 12', '-1', '12.5', '99999999999999999999'])
    expect(readStub(Buffer.from(formatStub(stub).replace('1073741824', size)), 'm')).toEqual({
      problem: expect.objectContaining({ kind: 'malformed' }),
    })
  const badSha = formatStub(stub).replace('ab'.repeat(32), 'AB'.repeat(32))
  expect(() => parseStub(Buffer.from(badSha), 'model.bin')).toThrow(
    `model.bin: malformed mlvc stub (sha256 "${'AB'.repeat(32)}" is not 64 hex digits)`,
  )
  const future = formatStub(stub).replace('stub v1', 'stub v9')
  expect(() => parseStub(Buffer.from(future), 'model.bin')).toThrow(
    /model\.bin: written by a newer mlvc \(stub v9/,
  )
  const badId = formatStub(stub).replace(
    stub.id,
    'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e',
  )
  expect(() => parseStub(Buffer.from(badId), 'model.bin')).toThrow(
    /malformed mlvc stub \(id bafkrei\w+ names a chunk, not a file\)/,
  )
  expect(readStub(Buffer.from(future), 'model.bin')).toEqual({
    problem: expect.objectContaining({ kind: 'newer' }),
  })
})

test('an unusable stub says where and what as separate fields, and its error carries the path', () => {
  const bad = Buffer.from(formatStub(stub).replace('size: 1073741824', 'size: lots'))
  const reading = readStub(bad, 'dir/m.bin')
  expect(reading && 'problem' in reading && reading.problem).toEqual({
    kind: 'malformed',
    where: 'dir/m.bin',
    detail: 'malformed mlvc stub (size "lots" is not a byte count)',
    message: 'dir/m.bin: malformed mlvc stub (size "lots" is not a byte count)',
    hint: expect.stringMatching(/^check out a good version/),
  })
  expect(() => parseStub(bad, 'dir/m.bin')).toThrow(
    expect.objectContaining({
      code: 'BAD_STUB',
      path: 'dir/m.bin',
      detail: reading && 'problem' in reading ? reading.problem.detail : '',
    }),
  )
})
