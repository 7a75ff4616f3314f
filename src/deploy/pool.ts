import { type CallOutcome, createRunner, type Runner, type RunnerTarget } from './runner.ts'

/** The runners of every version that was called, one process each at most. */
export interface RunnerPool {
  call(target: RunnerTarget, body: string): Promise<CallOutcome>
  /** Which versions have a runner, and their load. */
  status(): Array<{ key: string; active: number; waiting: number; running: boolean }>
  stopAll(): Promise<void>
}

export function createRunnerPool(): RunnerPool {
  const runners = new Map<string, Runner>()
  return {
    call(target, body) {
      let runner = runners.get(target.key)
      if (!runner) {
        runner = createRunner(target)
        runners.set(target.key, runner)
      }
      return runner.call(body)
    },
    status: () => [...runners].map(([key, r]) => ({ key, ...r.load() })),
    async stopAll() {
      const all = [...runners.values()]
      runners.clear()
      await Promise.all(all.map((r) => r.stop()))
    },
  }
}
