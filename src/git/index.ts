export { type GitOptions, type GitResult, git, runGit } from './exec.ts'
export { findGitRepo, type GitRepo } from './repo.ts'
