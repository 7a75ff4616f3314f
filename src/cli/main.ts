#!/usr/bin/env node
import { createRequire } from 'node:module'
import { Command } from '@commander-js/extra-typings'
import { checkpointCommands } from './groups/checkpoint.ts'
import { deployCommands } from './groups/deploy.ts'
import { entityCommands } from './groups/entities.ts'
import { experimentCommands } from './groups/exp.ts'
import { gitEntryCommands } from './groups/git-entry.ts'
import { hubCommands } from './groups/hub.ts'
import { mergeCommands } from './groups/merge.ts'
import { remoteCommands } from './groups/remotes.ts'
import { repositoryCommands } from './groups/repository.ts'
import { storeCommands } from './groups/store.ts'
import { syncCommands } from './groups/sync.ts'

const version = (createRequire(import.meta.url)('../../../package.json') as { version: string })
  .version

// Every command is declared in one group file under groups/, in the order `mlvc --help` lists
// them; each action is `runs(() => implementation)` (action.ts), which imports the implementation
// from commands/ or exp/ only when the command runs, and hands it the operands and options.
const program = new Command('mlvc')
  .description('Version control for machine learning: models, datasets and experiments in Git')
  .version(version, '-V, --version')
  .option('--json', 'print results as JSON on stdout')
  .option('-q, --quiet', 'print nothing but results and errors')
  .option('--debug', 'print stack traces on errors')
  .option('-C, --cwd <dir>', 'run as if started in <dir>')
  .showHelpAfterError()
  .configureHelp({ sortSubcommands: false })

storeCommands(program)
repositoryCommands(program)
remoteCommands(program)
syncCommands(program)
gitEntryCommands(program)
mergeCommands(program)
checkpointCommands(program)
experimentCommands(program)
entityCommands(program)
deployCommands(program)
hubCommands(program)

await program.parseAsync(process.argv)
