import type { Command } from '@commander-js/extra-typings'
import { runs } from '../action.ts'

/** Where the store syncs to, and the keys of encrypted remotes: remote …, key …. */
export function remoteCommands(program: Command): void {
  const remote = program
    .command('remote')
    .description('manage mlvc remotes (where the store syncs to)')
  remote
    .command('add')
    .description(
      'add a remote: a folder path, file:// URL or s3://BUCKET/PREFIX (written to .mlvc/config.yaml, which you commit)',
    )
    .argument('<name>')
    .argument('<url>')
    .option('--local', 'write to .mlvc/config.local.yaml (this machine only)')
    .option('--default', 'make it the default remote (the first one added is)')
    .option('--endpoint <url>', 'S3: a custom endpoint (MinIO, Ceph, R2, GCS); omit for AWS')
    .option('--region <region>', "S3: the bucket's region")
    .option('--profile <name>', 'S3: an AWS profile (written to config.local.yaml)')
    .option('--path-style', 'S3: path-style addressing (the default with --endpoint)')
    .option('--no-path-style', 'S3: virtual-hosted addressing')
    .option('--encrypt', 'encrypt everything sent to it, with a new key kept outside Git')
    .option('--key <id>', 'encrypt with this imported key (mlvc key import) instead of a new one')
    .action(runs(async () => (await import('../commands/remote.ts')).remoteAdd))
  remote
    .command('list', { isDefault: true })
    .description('list remotes: kind, URL, encryption (* marks the default)')
    .option('--no-check', 'do not ask each remote whether it answers')
    .action(runs(async () => (await import('../commands/remote.ts')).remoteList))
  remote
    .command('remove')
    .description('remove a remote from the config (its data stays where it is)')
    .argument('<name>')
    .action(runs(async () => (await import('../commands/remote.ts')).remoteRemove))
  remote
    .command('default')
    .description('set the default remote')
    .argument('<name>')
    .action(runs(async () => (await import('../commands/remote.ts')).remoteDefault))

  const key = program
    .command('key')
    .description('encryption keys of encrypted remotes (kept outside Git, in ~/.config/mlvc/keys)')
  key
    .command('list', { isDefault: true })
    .description('the keys on this machine, and which remotes of this repository use them')
    .action(runs(async () => (await import('../commands/key.ts')).keyList))
  key
    .command('export')
    .description('print a key, to give to a teammate over a safe channel')
    .argument('[id-or-remote]', 'a key id (k-…) or a remote name (default: the default remote)')
    .action(runs(async () => (await import('../commands/key.ts')).keyExport))
  key
    .command('import')
    .description("store a teammate's key on this machine")
    .argument('<file>', 'a file written by mlvc key export, or - for standard input')
    .action(runs(async () => (await import('../commands/key.ts')).keyImport))
}
