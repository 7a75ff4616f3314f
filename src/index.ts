// The library's public API: every layer, exported whole from its index.ts. docs/architecture.md
// says what each layer owns, how a checkpoint goes from `git add` to a remote and back, and where
// a change belongs. Each layer's index.ts is already its curated surface, so this file adds no
// second list to keep in step. Operations on a Git repository (pull, push, fetch, prePush,
// fsckRepository, repoStatus, mergeStubs, runMergeDriver, resolveConflict, diffFiles) take a
// RepoSession (git/session.ts): the CLI builds one from the working directory, a server can build
// its own.
export * from './checkpoint/index.ts'
export * from './core/index.ts'
export * from './experiments/index.ts'
export * from './formats/index.ts'
export * from './git/index.ts'
export * from './remote/index.ts'
export * from './store/index.ts'
export * from './tensors/index.ts'
