import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../test-helpers/index.ts'
import { f32Model, randomF32 } from './test-helpers/index.ts'
import { openVersion, whyNotCheckpoint } from './version.ts'

const dir = tempDir('mlvc-version')

describe('whyNotCheckpoint', () => {
  it("gives the format reader's reason for a local file, without the file's name", async () => {
    const model = f32Model({ a: randomF32(16, 1) })
    const file = join(dir, 'cut.safetensors')
    writeFileSync(file, model.subarray(0, model.length - 8))
    expect(await openVersion({ file })).toBeUndefined()
    expect(await whyNotCheckpoint({ file })).toBe(
      'tensor a ends at 128, past the end of the file (120 bytes)',
    )
    const text = join(dir, 'notes.txt')
    writeFileSync(text, 'hello\n')
    expect(await whyNotCheckpoint({ file: text })).toMatch(/^not a checkpoint format mlvc reads/)
  })

  it("gives the stub's note when there is no local copy", async () => {
    const stubLines = ['note: stored as a plain file: m.safetensors: the header is not JSON']
    expect(await openVersion({ stubLines })).toBeUndefined()
    expect(await whyNotCheckpoint({ stubLines }, 'm.safetensors')).toBe(
      'stored as a plain file: the header is not JSON',
    )
    expect(await whyNotCheckpoint({ stubLines: [] }, 'data.bin')).toBe(
      'stored as a plain file (not a checkpoint format mlvc reads)',
    )
  })
})
