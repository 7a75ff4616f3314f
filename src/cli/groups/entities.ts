import type { Command } from '@commander-js/extra-typings'
import type { EntityKind } from '../../entities/index.ts'
import { runs } from '../action.ts'

const ABOUT: Record<EntityKind, string> = {
  dataset: 'version a dataset: a folder of files, its manifest in Git, its files in the store',
  labels: 'version labels (annotations of a dataset) like a dataset',
  model: 'version a model folder, with the dataset and labels it was made from (lineage)',
}

/** One verb, `mlvc dataset|labels|model …`: the same subcommands for the three kinds of entity. */
function entityCommand(program: Command, kind: EntityKind): void {
  const verb = program.command(kind).description(ABOUT[kind])
  const load = async () => import('../commands/entity.ts')
  verb
    .command('init')
    .description(`create the folder ${kind}/NAME with its spec NAME.spec and a .gitignore`)
    .argument('<name>')
    .option('--category <names>', 'categories, "/"-separated (a/b); they start the tags', '')
    .option('--remote <name>', 'the mlvc remote its files go to (default: the default remote)')
    .option(
      '--mutability <m>',
      'strict (read-only links, committed files never change), flexible (read-only links) or mutable (copies)',
      'strict',
    )
    .action(runs(async () => (await load()).entityInit(kind)))
  verb
    .command('add')
    .description('stage files of the entity folder (all of it, or PATHS): store what changed')
    .argument('<name>')
    .argument('[paths...]', 'files or folders inside the entity folder')
    .action(runs(async () => (await load()).entityAdd(kind)))
  verb
    .command('status')
    .description('staged and unstaged changes (stat cache: unchanged files are not read)')
    .argument('<name>')
    .action(runs(async () => (await load()).entityStatusCommand(kind)))
  verb
    .command('reset')
    .description(
      'unstage (PATHS, or everything): back to the committed manifest; files are not touched',
    )
    .argument('<name>')
    .argument('[paths...]')
    .action(runs(async () => (await load()).entityReset(kind)))
  verb
    .command('commit')
    .description(
      'commit what is staged: MANIFEST and spec to Git, version bumped, tag CATEGORIES__NAME__VERSION',
    )
    .argument('<name>')
    .option('-m, --message <text>', 'the Git commit message')
    .option('--version <n>', 'the new version (default: the latest plus one)')
    .option(
      '--dataset <tag>',
      'lineage: the dataset this version was made from (TAG or NAME[@VERSION])',
    )
    .option('--labels <tag>', 'lineage (models): the labels this version was made from')
    .action(runs(async () => (await load()).entityCommit(kind)))
  verb
    .command('checkout')
    .description(
      'write exactly the files of a version (TAG, NAME or NAME@VERSION), fetching what the store lacks',
    )
    .argument(
      '<target>',
      'a tag (CATEGORIES__NAME__VERSION), NAME (the latest version) or NAME@VERSION',
    )
    .option(
      '--bare',
      'the spec and manifest only, no files (to add files without fetching the rest)',
    )
    .option(
      '--sample-type <sample>',
      'only some files: group:A:B (A of every B), random:A:B (A in B at random), range:START:STOP[:STEP]',
    )
    .option('--seed <n>', 'the seed of group and random samples (same seed, same files)', '1')
    .option('--fail-limit <n>', 'files that may fail to be written before the checkout stops', '0')
    .option('--with-lineage', 'also check out the dataset and labels the version was made from')
    .option('-f, --force', 'check out over staged or unstaged changes (they are lost)')
    .action(runs(async () => (await load()).entityCheckout(kind)))
  verb
    .command('push')
    .description(
      'send the files of every committed version to the remote (what it lacks); then git push the tags',
    )
    .argument('<name>')
    .action(runs(async () => (await load()).entityPush(kind)))
  verb
    .command('fetch')
    .description(
      'bring the files of a version (TAG, NAME or NAME@VERSION) into the local store, without checking out',
    )
    .argument('<target>')
    .action(runs(async () => (await load()).entityFetch(kind)))
  verb
    .command('list')
    .description(
      `the ${kind} entities of this work tree: version, categories, mutability, what is checked out`,
    )
    .action(runs(async () => (await load()).entityList(kind)))
  verb
    .command('show')
    .description('a version (TAG, NAME or NAME@VERSION): its spec, files and bytes')
    .argument('<target>')
    .action(runs(async () => (await load()).entityShow(kind)))
  verb
    .command('log')
    .description('the commits of the versions of NAME, newest first, with their tags')
    .argument('<name>')
    .action(runs(async () => (await load()).entityLogCommand(kind)))
  verb
    .command('tag')
    .description('tags of versions')
    .command('list')
    .description(`the tags of every ${kind} version (of NAME only, when given)`)
    .argument('[name]')
    .action(runs(async () => (await load()).entityTagList(kind)))
  verb
    .command('diff')
    .description('files added, removed and changed between two versions, with sizes')
    .argument('<from>')
    .argument('<to>')
    .action(runs(async () => (await load()).entityDiff(kind)))
  verb
    .command('lineage')
    .description('what a version was made from: model ← labels ← dataset (--json: the graph)')
    .argument('<target>', 'NAME, NAME@VERSION or a tag')
    .action(runs(async () => (await load()).entityLineage(kind)))
  verb
    .command('fsck')
    .description(
      `check every ${kind}: specs, manifests, the store has their files, cached copies match; exit 1 on a problem`,
    )
    .action(runs(async () => (await load()).entityFsck(kind)))
  verb
    .command('gc')
    .description(
      'remove cached copies no folder uses, then what nothing references from the store (as mlvc gc)',
    )
    .option('-n, --dry-run', 'report what would be removed')
    .action(runs(async () => (await load()).entityGc(kind)))
  verb
    .command('export')
    .description('write the files of a version to a folder or s3://BUCKET/PREFIX')
    .argument('<target>', 'TAG, NAME or NAME@VERSION')
    .argument('<dest>', 'a new folder, or s3://BUCKET/PREFIX')
    .option('--endpoint <url>', 'S3: a custom endpoint (MinIO, Ceph RGW)')
    .action(runs(async () => (await load()).entityExport(kind)))
  verb
    .command('import')
    .description(
      'copy the files of a folder or s3://BUCKET/PREFIX into entity NAME (created if new) and stage them',
    )
    .argument('<source>')
    .argument('<name>')
    .option('--endpoint <url>', 'S3: a custom endpoint (MinIO, Ceph RGW)')
    .action(runs(async () => (await load()).entityImport(kind)))
}

/** The entity verbs: dataset, labels, model. */
export function entityCommands(program: Command): void {
  for (const kind of ['dataset', 'labels', 'model'] as const) entityCommand(program, kind)
}
