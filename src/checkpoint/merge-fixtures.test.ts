import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, test } from 'vitest'
import { materialize, openStore } from '../store/index.ts'
import { tempDir } from '../test-helpers/index.ts'
import { tensorDeltas } from './deltas.ts'
import { ingestCheckpoint } from './ingest.ts'
import { mergeCheckpoints } from './merge.ts'
import { parseStrategy } from './strategy.ts'
import { tensorBytes } from './test-helpers/index.ts'

/** Written by scripts/gen-merge-fixtures.py: inputs by the real libraries, which also loaded mlvc's merged.*. */
const FIXTURES = fileURLToPath(new URL('./fixtures/merge/', import.meta.url))

interface Facts {
  /** The fixture's path with %s for base, ours, theirs or merged. */
  file: string
  merged_sha256: string
  /** sha256 of each tensor's decoded bytes in the merge the library loaded. */
  tensors: Record<string, string>
}

const FACTS = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as Record<
  string,
  Facts
>
const dir = tempDir('mlvc-merge-fixtures')
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

describe('merging files written by torch, safetensors, NumPy, onnx and gguf', () => {
  test.each(Object.entries(FACTS))(
    '%s: average gives the file the library loaded back, byte for byte',
    async (format, facts) => {
      const store = await openStore(join(dir, `store-${format}`), { create: true })
      const path = (side: string) => join(FIXTURES, facts.file.replace('%s', side))
      const ids: Record<string, string> = {}
      for (const side of ['base', 'ours', 'theirs']) {
        const stored = await ingestCheckpoint(store, path(side), undefined)
        expect(stored.meta, `${side}: ${stored.note}`).toBeDefined()
        ids[side] = stored.id
      }
      const average = parseStrategy('average', 'test')
      const outcome = await mergeCheckpoints(store, {
        base: ids.base as string,
        ours: ids.ours as string,
        theirs: ids.theirs as string,
        path: facts.file,
        choose: () => average,
      })
      expect(outcome.conflicts).toEqual([])
      await store.commit()
      const out = join(dir, `merged-${format}${facts.file.slice(facts.file.indexOf('.'))}`)
      await materialize(store, outcome.result?.id as string, out, { deltas: tensorDeltas() })
      for (const [name, digest] of Object.entries(facts.tensors))
        expect(sha256(await tensorBytes(out, name)), `tensor ${name}`).toBe(digest)
      expect(sha256(readFileSync(out))).toBe(facts.merged_sha256)
      expect(readFileSync(out).equals(readFileSync(path('merged')))).toBe(true)
      await store.close()
    },
  )
})
