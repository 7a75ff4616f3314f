/** One side as git passes it to an external diff: a file, the blob's hex (its mode is unused). */
export interface DriverSide {
  path: string
  file: string
  hex: string
}

/** What git passes to diff.mlvc.command; `sides` is undefined for an unmerged path. */
export interface DriverArgs {
  path: string
  /** The new path (a rename), else `path`. */
  to: string
  sides: { old: DriverSide; new: DriverSide } | undefined
}

/**
 * Reads git's external diff arguments: `path old-file old-hex old-mode new-file new-hex new-mode
 * [new-path xfrm-msg]`, or the path alone when it is unmerged.
 */
export function parseDriverArgs(args: readonly string[]): DriverArgs {
  const [path = '', oldFile = '', oldHex = '', , newFile = '', newHex = '', , newPath] = args
  const to = newPath ?? path
  if (args.length < 7) return { path, to, sides: undefined }
  const sides = {
    old: { path, file: oldFile, hex: oldHex },
    new: { path: to, file: newFile, hex: newHex },
  }
  return { path, to, sides }
}
