/**
 * A name pattern as a RegExp that matches whole names: `*` is any run of characters (`/` and `.`
 * included: tensor names are dotted paths), `?` one character, everything else itself.
 */
export function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.')
  return new RegExp(`^${escaped}$`)
}
