import { badFormat } from './bad-format.ts'
import { own } from './metadata.ts'
import { OP } from './pickle-ops.ts'
import {
  dictSet,
  type PyDict,
  type PyValue,
  parseRawUnicode,
  parseReprString,
  pyDict,
} from './pickle-values.ts'

export type { PyDict, PyValue } from './pickle-values.ts'

export interface UnpickleHooks {
  /** The global's value if `module.name` is allowed; otherwise throws (the refusal). */
  global(module: string, name: string): PyValue
  /** REDUCE, NEWOBJ, OBJ and INST: the value of `callable(*args)`. */
  call(callable: PyValue, args: PyValue[]): PyValue
  persistentLoad(pid: PyValue): PyValue
}

export interface UnpickleOptions extends UnpickleHooks {
  /** File and entry for messages, e.g. "model.pt: archive/data.pkl". */
  file: string
  what: string
}

const MODULE_RENAMES: Record<string, string> = { __builtin__: 'builtins', copy_reg: 'copyreg' }
const UTF8 = new TextDecoder('utf-8')
const LATIN1 = new TextDecoder('latin1')

/** Runs the pickle machine over `data` and returns the value STOP leaves. */
export function unpickle(data: Uint8Array, options: UnpickleOptions): PyValue {
  const { file, what } = options
  const view = new DataView(data.buffer, data.byteOffset, data.length)
  const stack: PyValue[] = []
  const marks: number[] = []
  const memo = new Map<number, PyValue>()
  let pos = 0
  let op = 0

  // Typed where it is declared, so that a call narrows what follows it.
  const fail: (why: string) => never = (why) => {
    throw badFormat(file, `${what}: ${why} (opcode 0x${op.toString(16)} at byte ${pos})`)
  }
  const need = (n: number) => {
    if (n < 0 || pos + n > data.length) fail(`truncated: ${n} more bytes needed`)
    const at = pos
    pos += n
    return at
  }
  const u8 = () => view.getUint8(need(1))
  const bytes = (n: number) => data.subarray(need(n), pos)
  const text = (n: number) => UTF8.decode(bytes(n))
  const line = () => {
    const end = data.indexOf(0x0a, pos)
    if (end < 0) fail('unterminated line')
    return LATIN1.decode(bytes(end - pos + 1)).slice(0, -1)
  }
  const u64 = () => {
    const n = view.getBigUint64(need(8), true)
    if (n > BigInt(data.length)) fail(`length ${n} exceeds the pickle`)
    return Number(n)
  }
  const pop = (): PyValue => {
    const value = stack.length === marks.at(-1) ? undefined : stack.pop()
    return value === undefined ? fail('stack underflow') : value
  }
  const top = (): PyValue => {
    const value = stack.length === marks.at(-1) ? undefined : stack.at(-1)
    return value === undefined ? fail('stack underflow') : value
  }
  const popMark = (): PyValue[] => {
    const mark = marks.pop()
    if (mark === undefined) return fail('no MARK')
    return stack.splice(mark)
  }
  const container = <T extends PyValue>(value: PyValue, type: string): T => {
    if (value === null || typeof value !== 'object' || value.type !== type)
      fail(`expected a ${type}`)
    return value as T
  }
  const long = (b: Uint8Array): PyValue => {
    // Python allows any size; a checkpoint never needs more, and BigInt building is quadratic.
    if (b.length > 1024) fail(`a ${b.length}-byte integer is too large`)
    let n = b.reduceRight((sum, byte) => (sum << 8n) | BigInt(byte), 0n)
    const last = b.at(-1)
    if (last !== undefined && last & 0x80) n -= 1n << BigInt(8 * b.length)
    return Number.isSafeInteger(Number(n)) ? Number(n) : n
  }
  const intText = (s: string): PyValue => {
    const t = s.endsWith('L') ? s.slice(0, -1) : s
    if (!/^[-+]?\d+$/.test(t) || t.length > 400) fail(`bad integer ${JSON.stringify(s)}`)
    const n = BigInt(t)
    return Number.isSafeInteger(Number(n)) ? Number(n) : n
  }
  const global = (module: string, name: string) => {
    stack.push(options.global(own(MODULE_RENAMES, module) ?? module, name))
  }
  const setItems = (d: PyDict, items: PyValue[]) => {
    if (items.length % 2) fail('odd number of dict items')
    for (let i = 0; i < items.length; i += 2)
      dictSet(d, [items[i] as PyValue, items[i + 1] as PyValue], options)
  }
  const put = (index: number) => {
    memo.set(index, top())
  }
  const get = (index: number) => {
    const v = memo.get(index)
    if (v === undefined) fail(`memo ${index} is empty`)
    stack.push(v)
  }

  for (;;) {
    op = u8()
    switch (op) {
      case OP.PROTO: {
        const v = u8()
        if (v > 5) fail(`pickle protocol ${v} is newer than 5`)
        break
      }
      case OP.FRAME:
        u64()
        break
      case OP.STOP:
        if (stack.length !== 1 || marks.length) fail('STOP with a malformed stack')
        return stack[0] as PyValue
      case OP.MARK:
        marks.push(stack.length)
        break
      case OP.POP:
        if (stack.length > 0 && stack.length === marks.at(-1)) marks.pop()
        else pop()
        break
      case OP.POP_MARK:
        popMark()
        break
      case OP.DUP:
        stack.push(top())
        break
      case OP.NONE:
        stack.push(null)
        break
      case OP.NEWTRUE:
        stack.push(true)
        break
      case OP.NEWFALSE:
        stack.push(false)
        break
      case OP.BININT:
        stack.push(view.getInt32(need(4), true))
        break
      case OP.BININT1:
        stack.push(u8())
        break
      case OP.BININT2:
        stack.push(view.getUint16(need(2), true))
        break
      case OP.LONG1:
        stack.push(long(bytes(u8())))
        break
      case OP.LONG4: {
        const n = view.getInt32(need(4), true)
        stack.push(long(bytes(n)))
        break
      }
      case OP.INT: {
        const s = line()
        stack.push(s === '00' ? false : s === '01' ? true : intText(s))
        break
      }
      case OP.LONG:
        stack.push(intText(line()))
        break
      case OP.FLOAT: {
        const s = line()
        const f = Number(s)
        if (Number.isNaN(f) && !/^[-+]?nan$/i.test(s)) fail(`bad float ${JSON.stringify(s)}`)
        stack.push(f)
        break
      }
      case OP.BINFLOAT:
        stack.push(view.getFloat64(need(8), false))
        break
      case OP.SHORT_BINUNICODE:
        stack.push(text(u8()))
        break
      case OP.BINUNICODE:
        stack.push(text(view.getUint32(need(4), true)))
        break
      case OP.BINUNICODE8:
        stack.push(text(u64()))
        break
      case OP.SHORT_BINSTRING:
        stack.push(text(u8()))
        break
      case OP.BINSTRING:
        stack.push(text(view.getInt32(need(4), true)))
        break
      case OP.STRING:
        stack.push(parseReprString(line(), fail))
        break
      case OP.UNICODE:
        stack.push(parseRawUnicode(line()))
        break
      case OP.SHORT_BINBYTES:
        stack.push({ type: 'bytes', data: bytes(u8()) })
        break
      case OP.BINBYTES:
        stack.push({ type: 'bytes', data: bytes(view.getUint32(need(4), true)) })
        break
      case OP.BINBYTES8:
      case OP.BYTEARRAY8:
        stack.push({ type: 'bytes', data: bytes(u64()) })
        break
      case OP.EMPTY_TUPLE:
        stack.push({ type: 'tuple', items: [] })
        break
      case OP.TUPLE1:
        stack.push({ type: 'tuple', items: [pop()] })
        break
      case OP.TUPLE2: {
        const b = pop()
        stack.push({ type: 'tuple', items: [pop(), b] })
        break
      }
      case OP.TUPLE3: {
        const c = pop()
        const b = pop()
        stack.push({ type: 'tuple', items: [pop(), b, c] })
        break
      }
      case OP.TUPLE:
        stack.push({ type: 'tuple', items: popMark() })
        break
      case OP.EMPTY_LIST:
        stack.push({ type: 'list', items: [] })
        break
      case OP.LIST:
        stack.push({ type: 'list', items: popMark() })
        break
      case OP.APPEND: {
        const v = pop()
        container<{ type: 'list'; items: PyValue[] }>(top(), 'list').items.push(v)
        break
      }
      case OP.APPENDS: {
        const items = popMark()
        const list = container<{ type: 'list'; items: PyValue[] }>(top(), 'list')
        for (const item of items) list.items.push(item)
        break
      }
      case OP.EMPTY_DICT:
        stack.push(pyDict())
        break
      case OP.DICT: {
        const d = pyDict()
        setItems(d, popMark())
        stack.push(d)
        break
      }
      case OP.SETITEM: {
        const v = pop()
        const k = pop()
        dictSet(container<PyDict>(top(), 'dict'), [k, v], options)
        break
      }
      case OP.SETITEMS: {
        const items = popMark()
        setItems(container<PyDict>(top(), 'dict'), items)
        break
      }
      case OP.EMPTY_SET:
        stack.push({ type: 'set', items: [] })
        break
      case OP.FROZENSET:
        stack.push({ type: 'set', items: popMark() })
        break
      case OP.ADDITEMS: {
        const items = popMark()
        const set = container<{ type: 'set'; items: PyValue[] }>(top(), 'set')
        for (const item of items) set.items.push(item)
        break
      }
      case OP.GLOBAL: {
        const module = line()
        global(module, line())
        break
      }
      case OP.STACK_GLOBAL: {
        const name = pop()
        const module = pop()
        if (typeof module !== 'string' || typeof name !== 'string')
          fail('STACK_GLOBAL needs two strings')
        global(module, name)
        break
      }
      case OP.INST: {
        const module = line()
        const name = line()
        const args = popMark()
        stack.push(options.call(options.global(own(MODULE_RENAMES, module) ?? module, name), args))
        break
      }
      case OP.OBJ: {
        const [cls, ...args] = popMark()
        if (cls === undefined) fail('OBJ without a class')
        stack.push(options.call(cls as PyValue, args))
        break
      }
      case OP.REDUCE:
      case OP.NEWOBJ: {
        const args = container<{ type: 'tuple'; items: PyValue[] }>(pop(), 'tuple')
        stack.push(options.call(pop(), args.items))
        break
      }
      case OP.NEWOBJ_EX: {
        const kwargs = container<PyDict>(pop(), 'dict')
        const args = container<{ type: 'tuple'; items: PyValue[] }>(pop(), 'tuple')
        if (kwargs.entries.length) fail('keyword arguments to a constructor are not supported')
        stack.push(options.call(pop(), args.items))
        break
      }
      case OP.BUILD:
        // State (an OrderedDict's _metadata, a Parameter's attributes) is not needed for the
        // layout; the pickle bytes themselves are kept verbatim.
        pop()
        top()
        break
      case OP.PERSID:
        stack.push(options.persistentLoad(line()))
        break
      case OP.BINPERSID:
        stack.push(options.persistentLoad(pop()))
        break
      case OP.PUT:
        put(Number(intText(line())))
        break
      case OP.BINPUT:
        put(u8())
        break
      case OP.LONG_BINPUT:
        put(view.getUint32(need(4), true))
        break
      case OP.MEMOIZE:
        put(memo.size)
        break
      case OP.GET:
        get(Number(intText(line())))
        break
      case OP.BINGET:
        get(u8())
        break
      case OP.LONG_BINGET:
        get(view.getUint32(need(4), true))
        break
      case OP.EXT1:
      case OP.EXT2:
      case OP.EXT4:
        return fail('the copyreg extension registry is not supported')
      case OP.NEXT_BUFFER:
      case OP.READONLY_BUFFER:
        return fail('out-of-band buffers are not supported')
      default:
        return fail('unknown opcode')
    }
  }
}
