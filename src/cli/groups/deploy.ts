import type { Command } from '@commander-js/extra-typings'
import { runs } from '../action.ts'

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

const HUB_HELP = 'the hub repository URL (default: Git remote origin)'

/** The project layout (validate), the model registry per branch, and deployments on a hub. */
export function deployCommands(program: Command): void {
  program
    .command('validate')
    .description(
      'check the project layout: models/, deployments/, their YAML files, entry points, references',
    )
    .option('--rev <rev>', 'check a commit instead of the work tree')
    .action(runs(async () => (await import('../commands/validate.ts')).validate))

  const registry = program
    .command('registry')
    .description('the model registry of a branch (models/NAME/)')
  const load = async () => import('../commands/registry.ts')
  registry
    .command('list')
    .description('the models of a branch, read without checking it out')
    .option('--branch <branch>', 'the branch (default: HEAD)')
    .action(runs(async () => (await load()).registryList))
  registry
    .command('show')
    .description("a model's description, framework, metrics, lineage and files")
    .argument('<name>')
    .option('--branch <branch>', 'the branch (default: HEAD)')
    .action(runs(async () => (await load()).registryShow))
  registry
    .command('add')
    .description('copy files into models/NAME/, store them with mlvc, write model.yaml and commit')
    .argument('<name>')
    .argument('<files...>')
    .option(
      '--meta <key=value>',
      'a model.yaml field (description=…, metrics.auc=0.91, lineage.dataset=TAG); repeatable',
      collect,
    )
    .action(runs(async () => (await load()).registryAdd))
  registry
    .command('rm')
    .description('remove models/NAME/ and commit')
    .argument('<name>')
    .action(runs(async () => (await load()).registryRm))
  registry
    .command('promote')
    .description(
      'copy a model from one branch to another: a commit on the target, nothing checked out',
    )
    .argument('<name>')
    .requiredOption('--from <branch>')
    .requiredOption('--to <branch>')
    .action(runs(async () => (await load()).registryPromote))
  const deployments = program
    .command('deployments')
    .description('deployments on the hub: versions, logs, calls')
  const hub = async () => import('../commands/deployments.ts')
  deployments
    .command('list', { isDefault: true })
    .description('the deployments of a branch and their latest versions')
    .option('--branch <branch>', 'the branch (default: the checked-out one)')
    .option('--hub <url>', HUB_HELP)
    .action(runs(async () => (await hub()).deploymentsList))
  deployments
    .command('versions')
    .description("a deployment's versions: number, commit, status, build")
    .argument('<deployment>')
    .option('--branch <branch>', 'the branch (default: the checked-out one)')
    .option('--hub <url>', HUB_HELP)
    .action(runs(async () => (await hub()).deploymentsVersions))
  deployments
    .command('logs')
    .description("a version's build log and runtime log (default: the latest version)")
    .argument('<deployment>')
    .option('--branch <branch>', 'the branch (default: the checked-out one)')
    .option('-n, --number <n>', 'the version number')
    .option('--hub <url>', HUB_HELP)
    .action(runs(async () => (await hub()).deploymentsLogs))
  deployments
    .command('call')
    .description('call a deployment with a JSON body; prints its JSON answer')
    .argument('<deployment>')
    .argument('[json]', 'the request body (default: standard input)')
    .option('--branch <branch>', 'the branch (default: the checked-out one)')
    .option('-n, --number <n>', 'the version number (default: the latest ready one)')
    .option('--hub <url>', HUB_HELP)
    .action(runs(async () => (await hub()).deploymentsCall))
}
