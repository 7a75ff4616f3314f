/**
 * Lets the event loop turn at most every `ms` milliseconds (call it once per file): storing and
 * writing small files completes without ever waiting for I/O, and the Ctrl-C handler, timers and
 * progress only run when the loop turns.
 */
export function loopTurner(ms = 20): () => Promise<void> {
  let last = Date.now()
  return async () => {
    const now = Date.now()
    if (now - last < ms) return
    last = now
    await new Promise((resume) => setImmediate(resume))
  }
}
