/**
 * A parser for the Python literals in .npy headers: dicts, tuples, lists, strings, ints (with
 * the Python 2 'L' suffix), True, False, None. Nothing else, so nothing else can be smuggled in.
 */
export type PyLiteral =
  | null
  | boolean
  | number
  | string
  | PyLiteral[]
  | { dict: Array<[PyLiteral, PyLiteral]> }

const MAX_DEPTH = 32

export function parsePyLiteral(text: string): PyLiteral {
  let i = 0
  const ws = () => {
    while (i < text.length && ' \t\r\n'.includes(text.charAt(i))) i++
  }
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at character ${i}`)
  }
  const expect = (c: string) => {
    ws()
    if (text[i] !== c) fail(`expected '${c}'`)
    i++
  }
  const seq = (close: string, item: () => void) => {
    for (;;) {
      ws()
      if (text[i] === close) break
      item()
      ws()
      if (text[i] === ',') i++
      else if (text[i] !== close) fail(`expected ',' or '${close}'`)
    }
    i++
  }
  const value = (depth: number): PyLiteral => {
    if (depth > MAX_DEPTH) fail('nested too deeply')
    ws()
    const c = text[i]
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1)
      if (end < 0 || text.slice(i + 1, end).includes('\\')) fail('unsupported string')
      const s = text.slice(i + 1, end)
      i = end + 1
      return s
    }
    if (c === '{') {
      i++
      const dict: Array<[PyLiteral, PyLiteral]> = []
      seq('}', () => {
        const k = value(depth + 1)
        expect(':')
        dict.push([k, value(depth + 1)])
      })
      return { dict }
    }
    if (c === '(' || c === '[') {
      i++
      const items: PyLiteral[] = []
      seq(c === '(' ? ')' : ']', () => items.push(value(depth + 1)))
      return items
    }
    const word = /^(-?\d+)L?|^(True|False|None)\b/.exec(text.slice(i, i + 40))
    if (!word) return fail('unexpected token')
    i += word[0].length
    if (word[2] !== undefined) return word[2] === 'True' ? true : word[2] === 'False' ? false : null
    const n = Number(word[1])
    if (!Number.isSafeInteger(n)) fail('integer out of range')
    return n
  }
  const result = value(0)
  ws()
  if (i !== text.length) fail('trailing characters')
  return result
}
