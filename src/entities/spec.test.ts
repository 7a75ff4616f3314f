import { describe, expect, it } from 'vitest'
import { formatSpec, parseSpec, parseTag, tagOf } from './spec.ts'

const ref = { kind: 'dataset', name: 'imgs' } as const
const good =
  'kind: dataset\nname: imgs\ncategories: [cv, images]\nversion: 3\nmutability: flexible\n'

describe('entity spec', () => {
  it('parses a spec and writes it back deterministically', () => {
    const spec = parseSpec(good, 'imgs.spec', ref)
    expect(spec).toMatchObject({
      kind: 'dataset',
      name: 'imgs',
      categories: ['cv', 'images'],
      version: 3,
      mutability: 'flexible',
    })
    const text = formatSpec({ ...spec, lineage: { dataset: 'cv__base__2' } })
    expect(parseSpec(text, 'imgs.spec', ref)).toEqual({
      ...spec,
      lineage: { dataset: 'cv__base__2' },
    })
    expect(formatSpec(parseSpec(text, 'x', ref))).toBe(text)
  })

  it.each([
    ['kind: dataset\nname: imgs\nversion: 1\ncolour: red\n', 'colour'],
    ['kind: dataset\nname: imgs\nversion: -1\n', 'version'],
    ['kind: dataset\nname: imgs\nversion: "2"\n', 'version'],
    ['kind: dataset\nname: imgs\nversion: 1\nmutability: loose\n', 'mutability'],
    ['kind: dataset\nname: imgs\nversion: 1\ncategories: [a__b]\n', 'categories[0]'],
    ['kind: dataset\nname: imgs\nversion: 1\ncategories: cv\n', 'categories'],
    ['kind: model\nname: imgs\nversion: 1\n', 'kind/name'],
    ['kind: dataset\nname: other\nversion: 1\n', 'kind/name'],
    ['kind: dataset\nname: imgs\nversion: 1\nlineage: {dataset: "../x"}\n', 'lineage.dataset'],
    ['kind: dataset\nname: imgs\nversion: 1\nlineage: {code: x__1}\n', 'lineage.code'],
    ['kind: [dataset\n', 'YAML'],
    ['- just\n- a list\n', 'the document'],
    ['kind: dataset\nkind: dataset\nname: imgs\nversion: 1\n', 'YAML'],
  ])('refuses nonsense with BAD_SPEC naming the file and the field (%#)', (text, field) => {
    expect(() => parseSpec(text, '/repo/dataset/imgs/imgs.spec', ref)).toThrow(
      expect.objectContaining({
        code: 'BAD_SPEC',
        message: expect.stringContaining(`/repo/dataset/imgs/imgs.spec: ${field}`),
      }),
    )
  })

  it('makes and reads ml-git tags', () => {
    expect(tagOf({ categories: ['cv', 'images'], name: 'imgs' }, 4)).toBe('cv__images__imgs__4')
    expect(tagOf({ categories: [], name: 'imgs' }, 1)).toBe('imgs__1')
    expect(parseTag('cv__images__imgs__4')).toEqual({
      categories: ['cv', 'images'],
      name: 'imgs',
      version: 4,
    })
    expect(parseTag('imgs')).toBeUndefined()
    expect(parseTag('cv__imgs__x')).toBeUndefined()
  })
})
