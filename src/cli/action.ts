import { resolve } from 'node:path'
import type { CommandUnknownOpts, OptionValues } from '@commander-js/extra-typings'
import type { CommandResult, Io } from './io.ts'
import { run, type Shell } from './shell.ts'

/**
 * Every command's implementation: the shell's Io, then what commander parsed — the operands in
 * the order the command declares them, and its options object. It returns data and text; only
 * the shell prints.
 */
export type CommandImpl<A, O> = (io: Io, operands: A, options: O) => Promise<CommandResult>

/** What an action reads from the command it runs for (commander calls it with `this` bound). */
interface Parsed<A, O> {
  readonly processedArgs: A
  opts(): O
  readonly parent: CommandUnknownOpts | null
}

/** The global options (--json, --quiet, --debug, --cwd): the root command's, wherever given. */
function shellOf(parent: CommandUnknownOpts | null): Shell {
  let root = parent
  while (root?.parent) root = root.parent
  const opts: OptionValues = root?.opts() ?? {}
  return {
    json: opts.json === true,
    quiet: opts.quiet === true,
    debug: opts.debug === true,
    cwd: resolve(typeof opts.cwd === 'string' ? opts.cwd : process.cwd()),
  }
}

/**
 * The action of every command: imports its implementation when the command runs (git starts the
 * filter and the drivers often: startup loads only what the command needs) and runs it in the
 * shell with the operands and options commander parsed.
 */
export function runs<A, O>(
  load: () => Promise<CommandImpl<A, O>>,
): (this: Parsed<A, O>) => Promise<void> {
  return async function (this: Parsed<A, O>) {
    const operands = this.processedArgs
    const options = this.opts()
    await run(shellOf(this.parent), async (io) => (await load())(io, operands, options))
  }
}
