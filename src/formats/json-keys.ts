const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const COLON = 0x3a

interface Frame {
  /** Keys seen so far; undefined for an array. */
  keys: Set<string> | undefined
  expectKey: boolean
  key: string
}

/** Index of the quote that ends the string opening at `start`. */
function stringEnd(text: string, start: number): number {
  for (let j = text.indexOf('"', start + 1); j >= 0; j = text.indexOf('"', j + 1)) {
    let backslashes = 0
    while (text.charCodeAt(j - 1 - backslashes) === BACKSLASH) backslashes++
    if (backslashes % 2 === 0) return j
  }
  return text.length
}

/** Keys written in `text` (valid JSON): one per colon outside strings. */
function countWrittenKeys(text: string): number {
  let count = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) i = stringEnd(text, i)
    else if (c === COLON) count++
  }
  return count
}

/** Keys of every object in a parsed value. */
function countParsedKeys(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0
  let count = 0
  if (Array.isArray(value)) {
    for (const item of value) count += countParsedKeys(item)
    return count
  }
  for (const key in value) count += 1 + countParsedKeys((value as Record<string, unknown>)[key])
  return count
}

/**
 * The first key that an object of `text` (valid JSON, which JSON.parse turned into `parsed`)
 * holds twice, as the path of keys leading to it; undefined if there is none. JSON.parse keeps
 * the last of duplicate keys, other parsers the first or neither, so a document with one means
 * different things to different readers.
 */
export function findDuplicateKey(text: string, parsed: unknown): string[] | undefined {
  // Duplicates collapse when parsed: equal counts mean there are none, found without building
  // the sets of keys (a header may list hundreds of thousands of tensors).
  if (countWrittenKeys(text) === countParsedKeys(parsed)) return undefined
  return locateDuplicate(text)
}

function locateDuplicate(text: string): string[] | undefined {
  const stack: Frame[] = []
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    const top = stack[stack.length - 1]
    if (c === QUOTE) {
      const end = stringEnd(text, i)
      if (top?.keys && top.expectKey) {
        const raw = text.slice(i, end + 1)
        const key = raw.includes('\\') ? String(JSON.parse(raw)) : raw.slice(1, -1)
        if (top.keys.has(key)) return [...stack.slice(0, -1).map((f) => f.key), key]
        top.keys.add(key)
        top.key = key
      }
      i = end
    } else if (c === 0x7b) stack.push({ keys: new Set(), expectKey: true, key: '' })
    else if (c === 0x5b) stack.push({ keys: undefined, expectKey: false, key: '' })
    else if (c === 0x7d || c === 0x5d) stack.pop()
    else if (c === COMMA && top?.keys) top.expectKey = true
    else if (c === COLON && top) top.expectKey = false
  }
  return undefined
}
