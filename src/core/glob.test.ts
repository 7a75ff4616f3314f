import { describe, expect, it } from 'vitest'
import { globToRegExp } from './glob.ts'

describe('globToRegExp', () => {
  it('matches whole names: * any run (dots and slashes too), ? one character', () => {
    const bias = globToRegExp('*.bias')
    expect(['layers.0.bias', 'a/b.bias', '.bias'].map((n) => bias.test(n))).toEqual([
      true,
      true,
      true,
    ])
    expect(['layers.0.bias.x', 'layers.0.weight', 'xbias'].some((n) => bias.test(n))).toBe(false)
    expect(globToRegExp('layer.?.w').test('layer.3.w')).toBe(true)
    expect(globToRegExp('layer.?.w').test('layer.12.w')).toBe(false)
  })

  it('takes every other character as itself, regular-expression syntax included', () => {
    expect(globToRegExp('a+b(c)[0]|$^{1}\\').test('a+b(c)[0]|$^{1}\\')).toBe(true)
    expect(globToRegExp('a.b').test('axb')).toBe(false)
    expect(globToRegExp('[0]').test('0')).toBe(false)
  })
})
