import { describe, expect, it } from 'vitest'
import { planCheckpoint } from '../data/safetensors.ts'
import { diffProblems, expectedUpdateChanges } from './diff-check.ts'

const plan = planCheckpoint(1 << 20)
const expected = expectedUpdateChanges(plan)

function output(
  change: (t: { name: string; status: string; exact?: { changed: number } }) => void,
) {
  const tensors = expected.map((e) => {
    const t = { name: e.name, status: 'changed', exact: { changed: e.changed.max } }
    change(t)
    return t
  })
  return JSON.stringify({ files: [{ path: 'model.safetensors', tensors }] })
}

describe('diff output check', () => {
  it('expects every tensor changed: 0.1% of its elements, all of a rewritten one', () => {
    expect(expected).toHaveLength(plan.tensors.length)
    const rewritten = expected.filter((e) => plan.finetuned.includes(e.name))
    expect(rewritten).toHaveLength(2)
    const norm = expected.find((e) => e.name.endsWith('norm1'))
    expect(norm?.changed).toEqual({ min: 1, max: 1 })
  })

  it('accepts a right report, with or without the data', () => {
    expect(
      diffProblems(
        output(() => {}),
        'model.safetensors',
        expected,
        true,
      ),
    ).toEqual([])
    const noData = output((t) => delete t.exact)
    expect(diffProblems(noData, 'model.safetensors', expected, false)).toEqual([])
    expect(diffProblems(noData, 'model.safetensors', expected, true)).toHaveLength(expected.length)
  })

  it('names what is wrong', () => {
    const stale = output((t) => {
      if (t.name === 'embed.weight') t.status = 'unchanged'
    })
    expect(diffProblems(stale, 'model.safetensors', expected, false)).toEqual([
      'embed.weight: status unchanged, expected changed',
    ])
    const off = output((t) => {
      if (t.name === 'embed.weight' && t.exact) t.exact.changed += 1
    })
    expect(diffProblems(off, 'model.safetensors', expected, true)[0]).toMatch(
      /^embed.weight: \d+ changed/,
    )
    expect(diffProblems('nope', 'model.safetensors', expected, false)[0]).toMatch(/no JSON/)
    expect(diffProblems('{}', 'model.safetensors', expected, false)).toEqual([
      'no files[].tensors for model.safetensors',
    ])
  })
})
