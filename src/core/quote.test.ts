import { describe, expect, it } from 'vitest'
import { quote, safeForTerminal } from './quote.ts'

describe('quote', () => {
  it('leaves printable names alone, in any script', () => {
    for (const name of ['model.safetensors', 'a b/c d.bin', 'модель/层.0', '{"lr": 0.1}', 'C:\\x'])
      expect(quote(name)).toBe(name)
  })

  it('quotes and escapes what a terminal acts on, as Git does', () => {
    expect(quote('\x1b[2J\x1b]0;title\x07')).toBe('"\\033[2J\\033]0;title\\a"')
    expect(quote('a\nb\tc\rd\be\vf\fg')).toBe('"a\\nb\\tc\\rd\\be\\vf\\fg"')
    expect(quote('nul\0del\x7f')).toBe('"nul\\000del\\177"')
    expect(quote('with "quotes" and \\ and \n')).toBe('"with \\"quotes\\" and \\\\ and \\n"')
  })

  it('escapes C1 and bidirectional controls as their UTF-8 bytes, keeping other text', () => {
    expect(quote('csi\u009b2J')).toBe('"csi\\302\\2332J"')
    expect(quote('é\u202eexe.txt')).toBe('"é\\342\\200\\256exe.txt"')
    expect(quote('line\u2028sep')).toBe('"line\\342\\200\\250sep"')
  })

  it('quotes a leading double quote, so quoted output is never ambiguous', () => {
    expect(quote('"x"')).toBe('"\\"x\\""')
  })

  it('quotes on request', () => {
    expect(quote('*.bin', { always: true })).toBe('"*.bin"')
    expect(quote('say "hi"', { always: true })).toBe('"say \\"hi\\""')
  })
})

describe('safeForTerminal', () => {
  it('keeps newlines, tabs and colors; escapes every other control', () => {
    const colored = '\x1b[1mbold\x1b[22m\tand\n\x1b[33myellow\x1b[39m'
    expect(safeForTerminal(colored)).toBe(colored)
    expect(safeForTerminal('x\x1b[2Jy\x1b]0;t\x07z\rw\u202e')).toBe(
      'x\\033[2Jy\\033]0;t\\az\\rw\\342\\200\\256',
    )
  })
})
