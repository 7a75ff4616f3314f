import type { StubProblem } from './stub.ts'

/** What became of the file of an unusable stub. */
export type BadStubOutcome = 'not pushed' | 'not fetched' | 'left as it is' | 'not listed'

/**
 * Something an operation skipped or did without, and went on: the library reports it as data
 * (RepoSession.onWarning), the caller says it to people.
 */
export type RepoWarning =
  /** A stub that cannot be used (malformed, from a newer mlvc): its file is skipped. */
  | { kind: 'bad-stub'; path: string; problem: StubProblem; outcome: BadStubOutcome }
  /** A pack index on the remote that does not read: its objects count as absent. */
  | { kind: 'remote-index-unreadable'; message: string }
  /** The remote could not be asked for the versions a merge of `path` needs. */
  | { kind: 'merge-fetch-failed'; path: string; message: string }
  /** The remote could not be asked what it holds: files are listed without it. */
  | { kind: 'remote-unchecked'; message: string }
  /** The remote could not be reached during a checkout: its files count as missing. */
  | { kind: 'checkout-fetch-failed'; message: string }

/** One bad-stub warning per unusable stub. */
export function warnBadStubs(
  onWarning: ((warning: RepoWarning) => void) | undefined,
  bad: ReadonlyArray<{ path: string; problem: StubProblem }>,
  outcome: BadStubOutcome,
): void {
  for (const b of bad) onWarning?.({ kind: 'bad-stub', path: b.path, problem: b.problem, outcome })
}
