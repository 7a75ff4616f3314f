import type { Command } from '@commander-js/extra-typings'
import { run, type Shell } from './shell.ts'

/** Operands after a `--` on the command line: commander passes them on without the marker. */
function afterDoubleDash(argv: readonly string[]): string[] {
  const at = argv.indexOf('--')
  return at < 0 ? [] : argv.slice(at + 1)
}

/** `mlvc inspect`, `mlvc diff` and git's diff driver: checkpoints as tensors. */
export function registerCheckpointCommands(program: Command, shell: () => Shell): void {
  program
    .command('inspect')
    .description("a checkpoint's tensors: name, dtype, shape, size and statistics")
    .argument(
      '<target>',
      'a file (a *.safetensors.index.json: all its shards), or REV:PATH of a file stored by mlvc',
    )
    .action((target) =>
      run(shell(), async (io) => (await import('./commands/inspect.ts')).inspect(target, io)),
    )

  program
    .command('diff')
    .description(
      'what changed in files stored by mlvc, tensor by tensor: index → work tree, REV → work tree, or A → B',
    )
    .argument('[rev-or-path...]', 'up to two revisions, then -- and paths')
    .option('--no-data', 'answer from the stubs alone: no data read, no store (fast)')
    .action((operands, options) =>
      run(shell(), async (io) => {
        const paths = afterDoubleDash(process.argv)
        const revs = operands.slice(0, operands.length - paths.length)
        return (await import('./commands/diff.ts')).diff(
          revs,
          paths,
          { data: options.data !== false },
          io,
        )
      }),
    )

  program
    .command('diff-driver', { hidden: true })
    .description("git's external diff driver (diff.mlvc.command)")
    .argument(
      '<args...>',
      'path old-file old-hex old-mode new-file new-hex new-mode [new-path xfrm]',
    )
    .allowUnknownOption()
    .action((args) =>
      run(shell(), async (io) => (await import('./commands/diff-driver.ts')).diffDriver(args, io)),
    )
}
