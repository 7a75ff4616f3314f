import { copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fc, test as propTest } from '@fast-check/vitest'
import { describe, expect } from 'vitest'
import { isMlvcError } from '../core/index.ts'
import { tempDir } from '../test-helpers/index.ts'
import { flattenPickle } from './flatten.ts'
import { detectFormat, readLayout, readTensor } from './index.ts'
import { unpickle } from './pickle.ts'
import { bufferSource } from './source.ts'
import { checkLayout, FACTS, fixture } from './test-helpers/fixtures.ts'
import { tensorOf, torchHooks } from './torch-globals.ts'
import { readZipDirectory, type ZipEntry } from './zip.ts'
import { readZipEntry } from './zip-data.ts'

const dir = tempDir('mlvc-fuzz')
copyFileSync(fixture('onnx/external.data'), join(dir, 'external.data'))

const FILES = Object.keys(FACTS)
  .filter((rel) => !rel.endsWith('.json'))
  .map((rel) => [rel, readFileSync(fixture(rel))] as const)

/** Header fields are where hostile values hurt: bias positions to the start and the end (zip directories). */
const position = (size: number) =>
  fc.oneof(
    fc.integer({ min: 0, max: Math.min(size, 600) }),
    fc.integer({ min: Math.max(0, size - 300), max: size }),
    fc.integer({ min: 0, max: size }),
  )

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0xffffffff]

type Mutation =
  | { kind: 'set'; at: number; byte: number }
  | { kind: 'int'; at: number; value: number; width: 2 | 4 | 8 }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }

function mutation(size: number): fc.Arbitrary<Mutation> {
  return fc.oneof(
    fc.record({
      kind: fc.constant('set' as const),
      at: position(size),
      byte: fc.integer({ min: 0, max: 255 }),
    }),
    fc.record({
      kind: fc.constant('int' as const),
      at: position(size),
      value: fc.constantFrom(...INTERESTING),
      width: fc.constantFrom(2 as const, 4 as const, 8 as const),
    }),
    fc.record({ kind: fc.constant('truncate' as const), at: position(size) }),
    fc.record({
      kind: fc.constant('insert' as const),
      at: position(size),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
    }),
    fc.record({
      kind: fc.constant('delete' as const),
      at: position(size),
      length: fc.integer({ min: 1, max: 16 }),
    }),
  )
}

function apply(data: Buffer, m: Mutation): Buffer {
  const at = Math.min(m.at, data.length)
  switch (m.kind) {
    case 'set':
      return at < data.length
        ? Buffer.concat([data.subarray(0, at), Buffer.from([m.byte]), data.subarray(at + 1)])
        : data
    case 'int': {
      const b = Buffer.alloc(8)
      b.writeBigUInt64LE(BigInt(m.value))
      const out = Buffer.from(data)
      b.subarray(0, m.width).copy(out, at)
      return out
    }
    case 'truncate':
      return data.subarray(0, at)
    case 'insert':
      return Buffer.concat([data.subarray(0, at), m.bytes, data.subarray(at)])
    case 'delete':
      return Buffer.concat([data.subarray(0, at), data.subarray(at + m.length)])
  }
}

const case_ = fc.integer({ min: 0, max: FILES.length - 1 }).chain((i) =>
  fc.tuple(
    fc.constant(i),
    fc.array(mutation((FILES[i] as readonly [string, Buffer])[1].length), {
      minLength: 1,
      maxLength: 4,
    }),
  ),
)

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} hung for ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** Only BAD_FORMAT may escape; anything else (TypeError, RangeError, IO) fails the property. */
async function badFormatOrValue<T>(promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise
  } catch (err) {
    if (isMlvcError(err, 'BAD_FORMAT')) return undefined
    throw err
  }
}

let n = 0

describe('fuzzing the fixtures', () => {
  // FUZZ_RUNS=20000 for a longer local sweep.
  propTest.prop([case_], { numRuns: Number(process.env.FUZZ_RUNS ?? 400) })(
    'a mutated file gives a valid layout or BAD_FORMAT, never another error or a hang',
    async ([index, mutations]) => {
      const [rel, original] = FILES[index] as readonly [string, Buffer]
      const bytes = mutations.reduce(apply, original)
      const path = join(dir, `${n++}-${rel.replaceAll('/', '_')}`)
      writeFileSync(path, bytes)
      await withTimeout(
        (async () => {
          await detectFormat(path)
          const layout = await badFormatOrValue(readLayout(path))
          if (!layout) return
          checkLayout(layout, bytes.length)
          for (const t of layout.tensors) {
            if (t.nbytes > 1 << 20) continue
            const read = (async () => {
              let total = 0
              for await (const b of readTensor(path, t, { blockSize: 64 })) total += b.length
              expect(total).toBe(t.nbytes)
            })()
            await badFormatOrValue(read)
          }
        })(),
        5000,
        `${rel} with ${JSON.stringify(mutations)}`,
      )
    },
  )

  const state = bufferSource('state.pt', readFileSync(fixture('torch/state.pt')))
  const pickles = Promise.all([
    readZipDirectory(state, 1 << 20).then((d) =>
      readZipEntry(state, d.entries.find((e) => e.name.endsWith('data.pkl')) as ZipEntry, 1 << 20),
    ),
    ...[0, 1, 2, 3, 4, 5].map(async (p) => readFileSync(fixture(`pickle/protocol-${p}.pkl`))),
  ])

  propTest.prop(
    [fc.integer({ min: 0, max: 6 }), fc.array(mutation(2000), { minLength: 1, maxLength: 4 })],
    {
      numRuns: Number(process.env.FUZZ_RUNS ?? 400),
    },
  )('a mutated pickle unpickles and flattens, or is BAD_FORMAT', async (index, mutations) => {
    const original = Buffer.from((await pickles)[index] as Uint8Array)
    const bytes = mutations.reduce(apply, original)
    const hooks = torchHooks('t.pt', 'data.pkl')
    await badFormatOrValue(
      (async () => {
        const root = unpickle(bytes, { file: 't.pt', what: 'data.pkl', ...hooks })
        flattenPickle('t.pt', root, tensorOf)
      })(),
    )
  })
})
