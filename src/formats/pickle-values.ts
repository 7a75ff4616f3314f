import { badFormat } from './bad-format.ts'

/**
 * Values a pickle can build here. Nothing is ever imported or called: GLOBAL yields a `global`
 * only if the hooks allow its name, and calling it means asking the hooks for a value.
 */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | { type: 'bytes'; data: Uint8Array }
  | { type: 'list'; items: PyValue[] }
  | { type: 'tuple'; items: PyValue[] }
  | { type: 'set'; items: PyValue[] }
  | PyDict
  | { type: 'global'; module: string; name: string }
  | { type: 'object'; cls: string; data: unknown }

export interface PyDict {
  type: 'dict'
  entries: Array<[PyValue, PyValue]>
  /** Key identity → index in entries, so a repeated key replaces its value as in Python. */
  index: Map<string, number>
}

export function pyDict(): PyDict {
  return { type: 'dict', entries: [], index: new Map() }
}

/** A stable identity for hashable keys: None, bools, numbers, strings, bytes, tuples of those. */
function keyOf(key: PyValue, depth = 0): string | undefined {
  if (key === null) return 'N'
  switch (typeof key) {
    case 'boolean':
    case 'number':
    case 'bigint':
      return `n${Number(key)}`
    case 'string':
      return `s${key}`
  }
  if (key.type === 'bytes') return `b${Buffer.from(key.data).toString('hex')}`
  if (key.type === 'tuple') {
    if (depth > 32) return undefined
    const parts = key.items.map((item) => keyOf(item, depth + 1))
    return parts.every((p) => p !== undefined) ? `t${JSON.stringify(parts)}` : undefined
  }
  if (key.type === 'global') return `g${key.module}.${key.name}`
  return undefined
}

/** Sets d[key] as Python would; `where` names the pickle in the error for unhashable keys. */
export function dictSet(
  d: PyDict,
  [key, value]: [PyValue, PyValue],
  where: { file: string; what: string },
): void {
  const id = keyOf(key)
  if (id === undefined) throw badFormat(where.file, `${where.what}: a dict key is unhashable`)
  const at = d.index.get(id)
  if (at === undefined) {
    d.index.set(id, d.entries.length)
    d.entries.push([key, value])
  } else {
    ;(d.entries[at] as [PyValue, PyValue])[1] = value
  }
}

/** Protocol 0 STRING: a Python repr such as 'abc' or "it's", with backslash escapes. */
export function parseReprString(s: string, fail: (why: string) => never): string {
  const q = s[0]
  if (s.length < 2 || (q !== "'" && q !== '"') || s.at(-1) !== q) fail('bad STRING literal')
  return s.slice(1, -1).replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(Number.parseInt(e.slice(1), 16))
    if (/^[0-7]/.test(e)) return String.fromCharCode(Number.parseInt(e, 8))
    return ({ n: '\n', r: '\r', t: '\t', '0': '\0' } as Record<string, string>)[e] ?? e
  })
}

/** Protocol 0 UNICODE: raw-unicode-escape, where only \uXXXX and \UXXXXXXXX are escapes. */
export function parseRawUnicode(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, u?: string, U?: string) => {
    // One of the two groups matched: the other is undefined.
    const cp = Number.parseInt(u ?? U ?? '', 16)
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : ''
  })
}
