import { randomBytes } from 'node:crypto'
import { hasControlCharacter } from './paths.ts'

/** dbxlogger's alphabet: nanoid's generate(size=13, alphabet='_0-9a-zA-Z'), 63 symbols. */
export const ID_ALPHABET = '_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'
export const ID_LENGTH = 13

/**
 * A new experiment id as dbxlogger makes them: 13 symbols of ID_ALPHABET, uniformly random (bytes are
 * masked to 6 bits and the one value outside the alphabet is rejected, as nanoid does).
 */
export function newExperimentId(): string {
  let id = ''
  while (id.length < ID_LENGTH) {
    for (const byte of randomBytes(32)) {
      const index = byte & 63
      if (index < ID_ALPHABET.length) id += ID_ALPHABET[index]
      if (id.length === ID_LENGTH) break
    }
  }
  return id
}

/**
 * True for an id that can name a folder: other tools may use other alphabets or lengths, so only
 * what would break the layout is refused (separators, dot names, control characters).
 */
export function isSafeId(id: string): boolean {
  return (
    id.length > 0 &&
    id.length <= 255 &&
    !id.startsWith('.') &&
    !/[/\\\s]/.test(id) &&
    !hasControlCharacter(id)
  )
}
