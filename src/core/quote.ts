// Names and values from files and repositories, escaped before they reach a message or a terminal.

/**
 * Characters a terminal acts on or that disguise text: C0 and C1 controls and DEL (escape
 * sequences, carriage return, backspace, bell), Unicode bidirectional controls (they reorder what
 * is shown: "Trojan Source") and the Unicode line and paragraph separators.
 */
const UNSAFE = /[\p{Cc}\p{Bidi_Control}\u2028\u2029]/u
const UNSAFE_OR_QUOTING = /[\p{Cc}\p{Bidi_Control}\u2028\u2029"\\]/gu
const NAMED: Record<string, string> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\t': '\\t',
  '\n': '\\n',
  '\v': '\\v',
  '\f': '\\f',
  '\r': '\\r',
  '"': '\\"',
  '\\': '\\\\',
}

/** Git's C-style escape of one character: a named escape, else its UTF-8 bytes in octal. */
function escapeChar(c: string): string {
  const named = NAMED[c]
  if (named) return named
  let out = ''
  for (const byte of Buffer.from(c, 'utf8')) out += `\\${byte.toString(8).padStart(3, '0')}`
  return out
}

/**
 * A name or value from a file or repository (path, tensor name, experiment name, param, metric
 * key) made safe to print: as it is when it holds no character a terminal acts on, else in double
 * quotes with C-style escapes, as Git quotes paths (`"a\033[2Jb\n"`).
 *
 * Like Git with core.quotePath=false, printable non-ASCII stays readable (a tensor or experiment
 * named in any script prints as itself); what terminals act on does not, C1 controls and
 * bidirectional controls included, which quotePath=false would pass through. Unlike Git, a `"` or
 * `\` alone does not trigger quoting (JSON values and Windows paths stay readable); a leading `"`
 * does, so the output is never ambiguous: quoted iff it starts with `"`. `always`: in quotes even
 * when nothing needs escaping (a pattern in a sentence: tracking "*.bin").
 */
export function quote(text: string, options: { always?: boolean } = {}): string {
  if (!options.always && !UNSAFE.test(text) && !text.startsWith('"')) return text
  return `"${text.replace(UNSAFE_OR_QUOTING, escapeChar)}"`
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding ESC is the point
const UNSAFE_IN_OUTPUT = /\x1b\[[0-9;]*m|[\p{Cc}\p{Bidi_Control}\u2028\u2029]/gu

/**
 * The last line of defence before the terminal, for whole messages and reports: every character
 * `quote` would escape is escaped, except newlines, tabs and color (SGR) sequences, which mlvc's
 * own rendering writes. Names inside should have gone through `quote` already: this keeps a name
 * that did not from clearing the screen or setting the window title, but cannot keep a newline in
 * it from looking like two lines.
 */
export function safeForTerminal(text: string): string {
  return text.replace(UNSAFE_IN_OUTPUT, (m) =>
    m.length > 1 || m === '\n' || m === '\t' ? m : escapeChar(m),
  )
}

/** `text` as one word for a POSIX shell: single-quoted, its own quotes closed and escaped. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`
}
