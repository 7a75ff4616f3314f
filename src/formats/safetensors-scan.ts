/**
 * A safetensors header read straight from its bytes, without JSON.parse building a tree of
 * objects: a header may list 200,000 tensors in 16 MB of JSON, and the tree (several times the
 * text) would be garbage the moment the layouts are made. Only the plain shape that writers
 * produce is read here; anything else (escapes, numbers that are not plain integers, an unknown
 * key, a duplicate, a name that is an array index, any mistake) returns undefined and the caller
 * parses the header the general way, which then also gives the error message.
 */

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const COLON = 0x3a
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const DIGIT_0 = 0x30
const DIGIT_9 = 0x39

/** What a tensor's entry gives, as JSON.parse would (its keys in any order). */
export interface RawTensor {
  dtype: string
  shape: number[]
  data_offsets: number[]
}

export interface ScannedHeader {
  /** In the order of the header: JSON.parse's order, since no name is an array index. */
  tensors: Array<[string, RawTensor]>
  /** `__metadata__`, when present: string values only. */
  metadata: Record<string, string> | undefined
}

/** Thrown inside the scanner when the header leaves the plain shape; never escapes it. */
const notPlain = new Error('not a plain safetensors header')

const KEYS = ['dtype', 'shape', 'data_offsets'] as const
type Key = (typeof KEYS)[number]

class Scanner {
  at = 0
  /** Dtypes met so far: one string each, however many tensors name it. */
  private readonly dtypes = new Map<string, string>()
  /** Integers of the list being read (a list is then copied out at its exact length). */
  private readonly scratch: number[] = []
  private readonly bytes: Buffer

  constructor(bytes: Buffer) {
    this.bytes = bytes
  }

  skipSpace(): void {
    const b = this.bytes
    let i = this.at
    for (let c = b[i]; c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = b[++i]);
    this.at = i
  }

  /** Skips white space, then expects `byte`. */
  expect(byte: number): void {
    this.skipSpace()
    if (this.bytes[this.at] !== byte) throw notPlain
    this.at++
  }

  /** Skips white space; true (and past it) when the next byte is `byte`. */
  take(byte: number): boolean {
    this.skipSpace()
    if (this.bytes[this.at] !== byte) return false
    this.at++
    return true
  }

  /**
   * Past a string without escapes or control characters; its bytes are [start, at - 1), and
   * `ascii` says whether they are all below 0x80.
   */
  private skipString(): { start: number; ascii: boolean } {
    this.expect(QUOTE)
    const b = this.bytes
    const start = this.at
    let ascii = true
    let i = start
    for (;;) {
      const c = b[i]
      if (c === undefined || c === BACKSLASH || c < 0x20) throw notPlain
      if (c === QUOTE) break
      if (c >= 0x80) ascii = false
      i++
    }
    this.at = i + 1
    return { start, ascii }
  }

  /** A string without escapes or control characters (the bytes are valid UTF-8). */
  string(): string {
    const { start, ascii } = this.skipString()
    const end = this.at - 1
    return this.bytes.toString(ascii ? 'latin1' : 'utf8', start, end)
  }

  /** A tensor entry's key, compared as bytes (no string made for it). */
  key(): Key {
    const { start } = this.skipString()
    const length = this.at - 1 - start
    for (const key of KEYS) {
      if (key.length !== length) continue
      let i = 0
      while (i < length && this.bytes[start + i] === key.charCodeAt(i)) i++
      if (i === length) return key
    }
    throw notPlain
  }

  dtype(): string {
    const text = this.string()
    const known = this.dtypes.get(text)
    if (known !== undefined) return known
    this.dtypes.set(text, text)
    return text
  }

  /** A JSON integer written plainly: 0 or digits not starting with 0, at most 15 of them. */
  integer(): number {
    this.skipSpace()
    const b = this.bytes
    const start = this.at
    let value = 0
    let i = start
    for (let c = b[i]; c !== undefined && c >= DIGIT_0 && c <= DIGIT_9; c = b[++i])
      value = value * 10 + (c - DIGIT_0)
    const digits = i - start
    if (digits === 0 || digits > 15 || (digits > 1 && b[start] === DIGIT_0)) throw notPlain
    // 1e3, 1.0, -1: JSON.parse reads them, the general path decides about them.
    const next = b[i]
    if (next === 0x2e || next === 0x65 || next === 0x45) throw notPlain
    this.at = i
    return value
  }

  integers(): number[] {
    this.expect(OPEN_BRACKET)
    if (this.take(CLOSE_BRACKET)) return []
    const list = this.scratch
    list.length = 0
    do list.push(this.integer())
    while (this.take(COMMA))
    this.expect(CLOSE_BRACKET)
    return list.slice()
  }

  tensor(): RawTensor {
    this.expect(OPEN_BRACE)
    let dtype: string | undefined
    let shape: number[] | undefined
    let offsets: number[] | undefined
    do {
      const key = this.key()
      this.expect(COLON)
      if (key === 'dtype' && dtype === undefined) dtype = this.dtype()
      else if (key === 'shape' && shape === undefined) shape = this.integers()
      else if (key === 'data_offsets' && offsets === undefined) offsets = this.integers()
      else throw notPlain
    } while (this.take(COMMA))
    this.expect(CLOSE_BRACE)
    if (dtype === undefined || shape === undefined || offsets === undefined) throw notPlain
    return { dtype, shape, data_offsets: offsets }
  }

  metadata(): Record<string, string> {
    this.expect(OPEN_BRACE)
    const out: Record<string, string> = {}
    if (this.take(CLOSE_BRACE)) return out
    do {
      const key = this.string()
      this.expect(COLON)
      // `out.__proto__ = …` would not make a key, as JSON.parse does.
      if (Object.hasOwn(out, key) || isIndex(key) || key === '__proto__') throw notPlain
      out[key] = this.string()
    } while (this.take(COMMA))
    this.expect(CLOSE_BRACE)
    return out
  }
}

/** Names JSON.parse would order first (array indices): left to the general path. */
function isIndex(name: string): boolean {
  const first = name.charCodeAt(0)
  if (first < DIGIT_0 || first > DIGIT_9) return false
  return /^(0|[1-9]\d*)$/.test(name) && Number(name) < 2 ** 32 - 1
}

/**
 * The tensors and metadata of a header (the JSON bytes after the length field, valid UTF-8), or
 * undefined when it is not of the plain shape (see the file's comment).
 */
export function scanSafetensorsHeader(bytes: Buffer): ScannedHeader | undefined {
  const s = new Scanner(bytes)
  const tensors: Array<[string, RawTensor]> = []
  const names = new Set<string>()
  let metadata: Record<string, string> | undefined
  try {
    s.expect(OPEN_BRACE)
    if (!s.take(CLOSE_BRACE)) {
      do {
        const name = s.string()
        s.expect(COLON)
        if (names.has(name) || isIndex(name)) return undefined
        names.add(name)
        if (name === '__metadata__') metadata = s.metadata()
        else tensors.push([name, s.tensor()])
      } while (s.take(COMMA))
      s.expect(CLOSE_BRACE)
    }
    s.skipSpace()
    // safetensors pads the header with spaces; anything else after the object is not JSON.
    if (s.at !== bytes.length) return undefined
  } catch (err) {
    if (err === notPlain) return undefined
    throw err
  }
  return { tensors, metadata }
}
