import { fc, test as propTest } from '@fast-check/vitest'
import { describe, expect, test } from 'vitest'
import { isMlvcError } from '../core/index.ts'
import { parseNpyHeader } from './npy.ts'
import { parsePyLiteral } from './py-literal.ts'
import { buildNpy } from './test-helpers/builders.ts'

const DESCRS: Record<string, [string, number]> = {
  '<f2': ['F16', 2],
  '<f4': ['F32', 4],
  '>f8': ['F64', 8],
  '|b1': ['BOOL', 1],
  '|i1': ['I8', 1],
  '>i2': ['I16', 2],
  '<i4': ['I32', 4],
  '<i8': ['I64', 8],
  '|u1': ['U8', 1],
  '>u2': ['U16', 2],
  '<u4': ['U32', 4],
  '<u8': ['U64', 8],
}

describe('.npy headers', () => {
  propTest.prop(
    [
      fc.constantFrom(...Object.keys(DESCRS)),
      fc.boolean(),
      fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 5 }),
      fc.constantFrom(1 as const, 2 as const, 3 as const),
    ],
    { numRuns: 200 },
  )('round trip of descr, order, shape and version', (descr, fortran, shape, version) => {
    const bytes = buildNpy({ descr, fortran, shape, data: new Uint8Array(0), version })
    const h = parseNpyHeader('x.npy', 'the array', bytes)
    const [dtype, size] = DESCRS[descr] as [string, number]
    expect(h).toEqual({
      version,
      headerLength: bytes.length,
      dtype,
      byteOrder: descr.startsWith('>') ? 'big' : 'little',
      order: fortran ? 'F' : 'C',
      shape,
      nbytes: shape.reduce((a, b) => a * b, 1) * size,
    })
  })

  test.each([
    ["{'descr': '|O', 'fortran_order': False, 'shape': (3,), }", /dtype "\|O"/],
    ["{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,), }", /dtype/],
    ["{'descr': '<f4', 'fortran_order': 0, 'shape': (3,), }", /fortran_order/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }", /shape/],
    [
      "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), } ; import os",
      /not a Python dict literal/,
    ],
    ["__import__('os').system('x')", /not a Python dict literal/],
    [
      "{'descr': '<f4', 'descr': '<i4', 'fortran_order': False, 'shape': (3,), }",
      /the .npy header gives "descr" twice/,
    ],
    [
      "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'extra': 1, }",
      /keys are \["descr","fortran_order","shape","extra"\]; NumPy requires exactly/,
    ],
    ["{'descr': '<f4', 'shape': (3,), }", /NumPy requires exactly descr, fortran_order and shape/],
  ])('%s is BAD_FORMAT', (text, pattern) => {
    const len = Buffer.alloc(2)
    len.writeUInt16LE(text.length)
    const bytes = Buffer.concat([
      Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]),
      len,
      Buffer.from(text),
    ])
    let err: unknown
    try {
      parseNpyHeader('x.npy', 'the array', bytes)
    } catch (e) {
      err = e
    }
    expect(isMlvcError(err, 'BAD_FORMAT')).toBe(true)
    expect((err as Error).message).toMatch(pattern)
  })
})

describe('Python literals', () => {
  test('the subset .npy headers use, and Python 2 longs', () => {
    expect(parsePyLiteral("{'a': (1, 2L,), \"b\": [True, None], 'c': ()}")).toEqual({
      dict: [
        ['a', [1, 2]],
        ['b', [true, null]],
        ['c', []],
      ],
    })
  })

  test.each([
    "'unterminated",
    '(1, 2',
    '{1: }',
    '1e5',
    "'\\x41'",
    '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]',
    'abs(1)',
  ])('%s is refused', (text) => {
    expect(() => parsePyLiteral(text)).toThrow(SyntaxError)
  })
})
