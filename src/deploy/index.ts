export {
  type BuildInput,
  buildEnvironment,
  type Environment,
  environmentPaths,
  requirementLines,
} from './build.ts'
export { type DeploymentPlan, planDeployments, type VersionFile } from './inputs.ts'
export {
  DEPLOYMENT_FILE,
  dependencyFiles,
  deploymentDir,
  entriesUnder,
  filesUnder,
  isEntryName,
  LAYOUT_FOLDERS,
  MODEL_FILE,
  modelDir,
} from './layout.ts'
export { createRunnerPool, type RunnerPool } from './pool.ts'
export {
  type PromoteInput,
  type PromoteResult,
  promoteModel,
  rollbackDeployment,
} from './promote.ts'
export {
  type AddModelInput,
  addModel,
  listModels,
  parseMeta,
  type RegistryModel,
  removeModel,
  showModel,
} from './registry.ts'
export { type CallOutcome, createRunner, type Runner, type RunnerTarget } from './runner.ts'
export {
  DEFAULT_LIMITS,
  type DeploymentLimits,
  type DeploymentSpec,
  type ModelSpec,
  type Problem,
  parseDeploymentSpec,
  parseModelSpec,
  problemLine,
  RUNTIMES,
  type Runtime,
  type TensorSpec,
} from './spec.ts'
export {
  commitTree,
  resolveCommit,
  type TreeFile,
  type TreeSource,
  workTreeSource,
} from './tree.ts'
export { hasErrors, type ValidateReport, validateTree } from './validate.ts'
export { prepareWorkspace, type WorkspaceInput, workspaceReady } from './workspace.ts'
