import cliProgress from 'cli-progress'
import type { ProgressEvent, ProgressHandler } from '../core/index.ts'
import { formatBytes } from './io.ts'
import { quote } from './text.ts'

function label(event: ProgressEvent): string {
  switch (event.type) {
    case 'ingest':
      return `storing ${quote(event.path)}`
    case 'materialize':
      return `writing ${quote(event.path)}`
    case 'verify':
      return 'verifying'
    case 'transfer':
      return event.direction === 'upload' ? 'uploading' : 'downloading'
    case 'objects':
    case 'files':
      return event.phase
  }
}

/**
 * A progress bar on stderr, shown only on a TTY and only once an operation has run for a second,
 * so quick commands stay quiet. Returns the handler and a function that clears the bar.
 */
export function createProgress(enabled: boolean): {
  onProgress: ProgressHandler | undefined
  stop(): void
} {
  if (!enabled || !process.stderr.isTTY) return { onProgress: undefined, stop() {} }
  const started = Date.now()
  let bar: cliProgress.SingleBar | undefined
  let current = ''
  return {
    onProgress(event) {
      if (Date.now() - started < 1000 && !bar) return
      const name = label(event)
      if (!bar || name !== current) {
        bar?.stop()
        current = name
        bar = new cliProgress.SingleBar(
          {
            // The label goes in as a value: a path in the format string could hold {placeholders}.
            format: '{label} [{bar}] {percentage}% {doneText} / {totalText}',
            stream: process.stderr,
            clearOnComplete: true,
            hideCursor: true,
          },
          cliProgress.Presets.shades_classic,
        )
        bar.start(Math.max(event.total, 1), 0, { label: name, doneText: '', totalText: '' })
      }
      const total = Math.max(event.total, event.done, 1)
      bar.setTotal(total)
      bar.update(event.done, {
        label: name,
        doneText: event.type === 'files' ? `${event.done} files` : formatBytes(event.done),
        totalText: event.type === 'files' ? `${total}` : formatBytes(total),
      })
    },
    stop() {
      bar?.stop()
    },
  }
}
