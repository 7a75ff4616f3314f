import {
  commitTree,
  hasErrors,
  problemLine,
  resolveCommit,
  validateTree,
  workTreeSource,
} from '../../deploy/index.ts'
import { repoContext } from '../context.ts'
import type { CommandResult, Io } from '../io.ts'
import { requireGit } from '../repo.ts'

/**
 * `mlvc validate [--rev REV]`: checks the project layout of the work tree (or a commit), one line
 * per problem; exits 1 when there are errors (warnings alone pass).
 */
export async function validate(
  io: Io,
  _operands: [],
  options: { rev?: string },
): Promise<CommandResult> {
  const ctx = requireGit(await repoContext(io.cwd))
  const source = options.rev
    ? commitTree(ctx.workTree, await resolveCommit(ctx.workTree, options.rev), options.rev)
    : workTreeSource(ctx.workTree)
  const report = await validateTree(source)
  const failed = hasErrors(report)
  const summary = `${report.models.length} model(s), ${report.deployments.length} deployment(s) in ${source.label}: ${
    failed ? 'invalid' : 'valid'
  }`
  return {
    data: { valid: !failed, ...report },
    text: [...report.problems.map(problemLine), summary].join('\n'),
    exitCode: failed ? 1 : 0,
  }
}
