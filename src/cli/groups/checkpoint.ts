import type { Command } from '@commander-js/extra-typings'
import { runs } from '../action.ts'

/** Checkpoints as tensors: inspect, diff. */
export function checkpointCommands(program: Command): void {
  program
    .command('inspect')
    .description("a checkpoint's tensors: name, dtype, shape, size and statistics")
    .argument(
      '<target>',
      'a file (a *.safetensors.index.json: all its shards), or REV:PATH of a file stored by mlvc',
    )
    .option(
      '--storage',
      'also how each tensor is stored (own chunks, a sparse or low-rank delta) and its bytes in the store',
    )
    .action(runs(async () => (await import('../commands/inspect.ts')).inspect))

  program
    .command('diff')
    .description(
      'what changed in files stored by mlvc, tensor by tensor: index → work tree, REV → work tree, or A → B',
    )
    .argument('[rev-or-path...]', 'up to two revisions, then -- and paths')
    .option('--no-data', 'answer from the stubs alone: no data read, no store (fast)')
    .action(runs(async () => (await import('../commands/diff.ts')).diff))
}
