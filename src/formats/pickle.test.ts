import { readFileSync } from 'node:fs'
import { fc, test as propTest } from '@fast-check/vitest'
import { describe, expect, test } from 'vitest'
import { isMlvcError } from '../core/index.ts'
import { flattenPickle } from './flatten.ts'
import { type PyValue, unpickle } from './pickle.ts'
import { callPickle, globalOp, type Plain, pickle } from './test-helpers/builders.ts'
import { FACTS, fixture } from './test-helpers/fixtures.ts'
import { torchHooks } from './torch-globals.ts'

function load(data: Uint8Array): PyValue {
  return unpickle(data, {
    file: 'test.pt',
    what: 'archive/data.pkl',
    ...torchHooks('test.pt', 'archive/data.pkl'),
  })
}

/** The JSON gen-fixtures.py writes for a Python value (bytes as hex, huge ints as text). */
function plain(v: PyValue): unknown {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v
  if (typeof v === 'number') return v
  if (typeof v === 'bigint') return v.toString()
  switch (v.type) {
    case 'bytes':
      return { bytes: Buffer.from(v.data).toString('hex') }
    case 'list':
    case 'tuple':
    case 'set':
      return v.items.map(plain)
    case 'dict':
      return Object.fromEntries(v.entries.map(([k, x]) => [String(k), plain(x)]))
    default:
      return `<${v.type}>`
  }
}

function expectRefused(data: Uint8Array, pattern: RegExp): void {
  let err: unknown
  try {
    load(data)
  } catch (e) {
    err = e
  }
  expect(isMlvcError(err, 'BAD_FORMAT'), String(err)).toBe(true)
  expect((err as Error).message).toMatch(pattern)
  expect((err as Error).message).toMatch(/^test\.pt: archive\/data\.pkl/)
}

describe('unpickle', () => {
  test.each([0, 1, 2, 3, 4, 5])('protocol %i, as CPython writes it', (protocol) => {
    const rel = `pickle/protocol-${protocol}.pkl`
    expect(plain(load(readFileSync(fixture(rel))))).toEqual(FACTS[rel]?.value)
  })

  const plainValue: fc.Arbitrary<Plain> = fc.letrec<{ v: Plain }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constant(null),
      fc.boolean(),
      fc.integer(),
      fc.double({ noNaN: true }),
      fc
        .bigInt({ min: -(2n ** 100n), max: 2n ** 100n })
        .filter((n) => !Number.isSafeInteger(Number(n))),
      fc.string({ unit: 'binary' }),
      fc.uint8Array({ maxLength: 40 }),
      fc.array(tie('v'), { maxLength: 5 }),
      fc.record({ tuple: fc.array(tie('v'), { maxLength: 4 }) }),
      fc.record({
        dict: fc.uniqueArray(fc.tuple(fc.string(), tie('v')), {
          maxLength: 4,
          selector: ([k]) => k,
        }),
      }),
    ),
  })).v

  function expected(v: Plain): unknown {
    if (v instanceof Uint8Array) return { bytes: Buffer.from(v).toString('hex') }
    if (typeof v === 'bigint') return v.toString()
    if (Array.isArray(v)) return v.map(expected)
    if (v !== null && typeof v === 'object') {
      return 'tuple' in v
        ? v.tuple.map(expected)
        : Object.fromEntries(v.dict.map(([k, x]) => [k, expected(x)]))
    }
    return v
  }

  propTest.prop([plainValue, fc.constantFrom(2 as const, 4 as const)], { numRuns: 200 })(
    'round trip of plain values, protocols 2 and 4',
    (value, protocol) => {
      expect(plain(load(pickle(value, protocol)))).toEqual(expected(value))
    },
  )

  test.each([
    ['posix', 'system'],
    ['os', 'system'],
    ['builtins', 'eval'],
    ['builtins', 'exec'],
    ['__builtin__', 'eval'],
    ['subprocess', 'Popen'],
    ['subprocess', 'check_output'],
    ['torch', 'load'],
    ['numpy.core.multiarray', '_reconstruct'],
    ['collections', 'OrderedDict.__init__'],
    ['torch', 'constructor'],
    ['torch', '__proto__'],
    ['constructor', 'toString'],
  ])('GLOBAL %s.%s is refused by name', (module, name) => {
    const shown = module === '__builtin__' ? 'builtins' : module
    expectRefused(
      callPickle(module, name, 'echo pwned'),
      new RegExp(`${shown}\\.${name.replaceAll('.', '\\.')}.*allow-list`),
    )
  })

  test('STACK_GLOBAL and INST are checked the same way', () => {
    const stack = Buffer.concat([
      Buffer.from([0x80, 0x04, 0x8c, 5]),
      Buffer.from('posix'),
      Buffer.from([0x8c, 6]),
      Buffer.from('system'),
      Buffer.from([0x93, 0x2e]),
    ])
    expectRefused(stack, /posix\.system/)
    expectRefused(Buffer.from('(S"echo"\nisubprocess\nPopen\n.', 'latin1'), /subprocess\.Popen/)
  })

  test('allowed but unreadable torch globals name what they are', () => {
    expectRefused(callPickle('torch._utils', '_rebuild_qtensor', 'x'), /quantized tensors/)
    expectRefused(callPickle('torch._utils', '_rebuild_sparse_tensor', 'x'), /sparse tensors/)
  })

  test('an allowed global cannot be called with arbitrary arguments', () => {
    expectRefused(callPickle('torch', 'FloatStorage', 'x'), /cannot be called/)
    expectRefused(
      Buffer.concat([Buffer.from([0x80, 2]), Buffer.from('N)R.', 'latin1')]),
      /not an allowed global/,
    )
  })

  test.each([
    ['truncated', Buffer.from([0x80, 0x02, 0x58, 0xff, 0xff, 0, 0]), /truncated/],
    [
      'huge BINUNICODE8',
      Buffer.from([0x80, 4, 0x8d, 255, 255, 255, 255, 255, 255, 255, 127]),
      /exceeds the pickle/,
    ],
    [
      'huge LONG4',
      Buffer.concat([Buffer.from([0x80, 2, 0x8b]), Buffer.from([0, 0, 1, 0]), Buffer.alloc(65536)]),
      /too large/,
    ],
    ['empty memo', Buffer.from([0x80, 2, 0x68, 5, 0x2e]), /memo 5 is empty/],
    ['stack underflow', Buffer.from([0x80, 2, 0x52, 0x2e]), /underflow/],
    ['unknown opcode', Buffer.from([0x80, 2, 0xff]), /unknown opcode/],
    ['extension registry', Buffer.from([0x80, 2, 0x82, 1, 0x2e]), /extension registry/],
    ['out-of-band buffer', Buffer.from([0x80, 5, 0x97, 0x2e]), /out-of-band/],
    ['protocol 6', Buffer.from([0x80, 6, 0x4e, 0x2e]), /protocol 6/],
    ['no STOP', Buffer.from([0x80, 2, 0x4e]), /truncated/],
    ['APPEND to a dict', Buffer.from([0x80, 2, 0x7d, 0x4e, 0x61, 0x2e]), /expected a list/],
    ['unhashable key', Buffer.from([0x80, 2, 0x7d, 0x5d, 0x4e, 0x73, 0x2e]), /unhashable/],
  ])('%s is BAD_FORMAT', (_, data, pattern) => {
    expectRefused(data, pattern)
  })

  test('the global check happens before anything else of the pickle runs', () => {
    const data = Buffer.concat([
      Buffer.from([0x80, 2]),
      globalOp('os', 'system'),
      Buffer.from([0xff]),
    ])
    expectRefused(data, /os\.system/)
  })
})

describe('flattenPickle', () => {
  const noTensors = () => undefined

  test('a list that contains itself is refused, not walked forever', () => {
    // [] DUP APPEND: l = []; l.append(l)
    const data = Buffer.from([0x80, 2, 0x5d, 0x32, 0x61, 0x2e])
    expect(() => flattenPickle('test.pt', load(data), noTensors)).toThrow(/holds itself/)
  })

  test('a DAG with 2^40 paths hits the node budget', () => {
    // x = []; 40 times: memo[0] = x; pop; x = [memo[0], memo[0]]
    const parts = [Buffer.from([0x80, 2, 0x5d])]
    for (let i = 0; i < 40; i++)
      parts.push(Buffer.from([0x71, 0, 0x30, 0x28, 0x68, 0, 0x68, 0, 0x6c]))
    parts.push(Buffer.from([0x2e]))
    const root = load(Buffer.concat(parts))
    const anyTensor = (v: PyValue) =>
      v !== null && typeof v === 'object' && v.type === 'list' && v.items.length === 0
        ? 't'
        : undefined
    expect(() => flattenPickle('test.pt', root, anyTensor)).toThrow(/more than 1000000 values/)
  })

  test('nested containers flatten with dots; values keep JSON shape', () => {
    const root = load(
      pickle({
        dict: [
          ['a', { dict: [['b', 1]] }],
          ['l', [1, { tuple: [2, 'x'] }]],
          ['bytes', Buffer.from([1, 2])],
          ['empty', { dict: [] }],
        ],
      }),
    )
    expect(flattenPickle('test.pt', root, noTensors).values).toEqual([
      ['a.b', 1],
      ['l', [1, [2, 'x']]],
      ['bytes', { $bytes: 'AQI=' }],
      ['empty', {}],
    ])
  })
})
