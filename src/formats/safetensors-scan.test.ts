import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fc, test as propTest } from '@fast-check/vitest'
import { describe, expect, test } from 'vitest'
import { tempDir } from '../test-helpers/index.ts'
import { readLayout } from './index.ts'
import { scanSafetensorsHeader } from './safetensors-scan.ts'

/** What JSON.parse makes of a header: the tensors in its order, and `__metadata__`. */
function parsed(text: string) {
  const header = JSON.parse(text) as Record<string, unknown>
  const { __metadata__: metadata, ...rest } = header
  return { tensors: Object.entries(rest), metadata }
}

const scan = (text: string) => scanSafetensorsHeader(Buffer.from(text))

const space = fc.constantFrom('', ' ', '\n', '  ', '\t', '\r\n')

/** A tensor entry's JSON with its keys in any order and any white space between tokens. */
const entry = fc
  .record({
    dtype: fc.constantFrom('F32', 'BF16', 'I64', 'U8'),
    shape: fc.array(fc.nat({ max: 100_000 }), { maxLength: 4 }),
    offsets: fc.tuple(fc.nat(), fc.nat()),
    order: fc.shuffledSubarray(['dtype', 'shape', 'data_offsets'], { minLength: 3 }),
    ws: fc.array(space, { minLength: 8, maxLength: 8 }),
  })
  .map(({ dtype, shape, offsets, order, ws }) => {
    const values: Record<string, unknown> = { dtype, shape, data_offsets: offsets }
    const fields = order.map((k, i) => `${ws[i]}"${k}"${ws[i + 3]}:${JSON.stringify(values[k])}`)
    return `{${fields.join(',')}${ws[7]}}`
  })

/** Names with escapes (quotes, control characters) and without, ASCII and not. */
const name = fc.oneof(
  fc.string({ minLength: 1, maxLength: 10 }),
  fc.string({ minLength: 1, maxLength: 10, unit: 'grapheme' }),
  fc.stringMatching(/^[a-z][a-z0-9._]{0,30}$/),
)

const header = fc
  .record({
    tensors: fc.uniqueArray(fc.tuple(name, entry), {
      maxLength: 8,
      selector: ([name]) => name,
    }),
    metadata: fc.option(fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }))),
    pad: fc.nat({ max: 7 }),
  })
  .map(({ tensors, metadata, pad }) => {
    const items = tensors
      .filter(([name]) => name !== '__metadata__')
      .map(([name, value]) => `${JSON.stringify(name)}:${value}`)
    if (metadata) items.unshift(`"__metadata__":${JSON.stringify(metadata)}`)
    return `{${items.join(',')}}${' '.repeat(pad)}`
  })

describe('reading a safetensors header from its bytes', () => {
  propTest.prop([header])('reads what JSON.parse reads, or leaves the header to it', (text) => {
    const scanned = scan(text)
    const expected = parsed(text)
    const plain =
      !text.includes('\\') &&
      expected.tensors.every(([name]) => !/^\d+$/.test(name)) &&
      !Object.keys((expected.metadata as object | undefined) ?? {}).some(
        (k) => /^\d+$/.test(k) || k === '__proto__',
      )
    if (!plain) {
      // Escapes, index-like names and __proto__ are the general path's.
      expect(scanned).toBeUndefined()
      return
    }
    expect(scanned?.tensors).toEqual(expected.tensors)
    expect(scanned?.metadata).toEqual(expected.metadata)
  })

  test('anything but the plain shape goes to the general path', () => {
    const tensor = '{"dtype":"F32","shape":[2],"data_offsets":[0,8]}'
    for (const text of [
      `{"a\\u0062":${tensor}}`, // an escape
      '{"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}', // 2.0
      '{"a":{"dtype":"F32","shape":[1e1],"data_offsets":[0,40]}}',
      '{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,8]}}',
      '{"a":{"dtype":"F32","shape":[02],"data_offsets":[0,8]}}', // not JSON
      '{"a":{"dtype":"F32","shape":[1234567890123456],"data_offsets":[0,8]}}',
      `{"a":${tensor},"a":${tensor}}`, // duplicate tensor
      '{"a":{"dtype":"F32","dtype":"F16","shape":[2],"data_offsets":[0,8]}}', // duplicate key
      '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":1}}', // unknown key
      '{"a":{"dtype":"F32","shape":[2]}}', // missing key
      `{"7":${tensor}}`, // JSON.parse puts index-like names first
      `{"__metadata__":{"k":1},"a":${tensor}}`, // a metadata value that is not a string
      `{"__metadata__":{"__proto__":"x"},"a":${tensor}}`,
      `{"__metadata__":"x","a":${tensor}}`,
      `{"a":${tensor}}x`, // trailing bytes
      `{"a":${tensor},}`,
      `{"a\u0001":${tensor}}`, // a control character
      `{"a":${tensor}`, // cut off
      '',
    ])
      expect(scan(text), text).toBeUndefined()
    expect(scan('{}')).toEqual({ tensors: [], metadata: undefined })
  })

  test('a header left to the general path reads the same, or fails the same way', async () => {
    const dir = tempDir('mlvc-safetensors-scan')
    const layoutOf = async (head: string, name: string) => {
      const json = Buffer.from(head)
      const bytes = Buffer.alloc(8 + json.length + 8)
      bytes.writeBigUInt64LE(BigInt(json.length), 0)
      json.copy(bytes, 8)
      const path = join(dir, `${name}.safetensors`)
      writeFileSync(path, bytes)
      return readLayout(path)
    }
    const plain = await layoutOf('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', 'p')
    const general = await layoutOf(
      '{"\\u0061":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}',
      'g',
    )
    // Headers of different lengths: the data starts elsewhere.
    const relative = (l: typeof plain) =>
      l.tensors.map(({ start, end, ...t }) => ({ ...t, end: end - start }))
    expect(relative(general)).toEqual(relative(plain))
    await expect(
      layoutOf(
        '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}',
        'd',
      ),
    ).rejects.toThrow(/gives "a" twice/)
    // A tensor neither path takes: the same message from both.
    const bad = (name: string) => `{${name}:{"dtype":"X9","shape":[2],"data_offsets":[0,8]}}`
    for (const [head, file] of [
      [bad('"a"'), 'b1'],
      [bad('"\\u0061"'), 'b2'],
    ])
      await expect(layoutOf(head as string, file as string)).rejects.toThrow(
        /tensor a has dtype X9, which mlvc does not read/,
      )
  })
})
