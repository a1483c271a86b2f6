import type { Progress } from '../core/index.js';

export type { Progress };

const SPIN = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const MARK: Record<string, string> = { ok: '✓', failed: '✗', error: '✗', aborted: '■', skipped: '-' };

/**
 * A live step list for a terminal: the steps so far, the running one with a spinner, notes under
 * it, redrawn in place. Off a terminal (or in CI) runs log plain lines instead.
 */
export function terminalProgress(write: (text: string) => void, options: { columns?: number; intervalMs?: number } = {}): Progress {
  const lines: string[] = [];
  let drawn = 0;
  let running: string | undefined;
  let notes: string[] = [];
  let frame = 0;
  const width = Math.max(40, (options.columns ?? 100) - 1);
  const clip = (s: string) => (s.length > width ? `${s.slice(0, width - 1)}…` : s);
  const draw = () => {
    const all = [...lines, ...(running ? [`${SPIN[frame % SPIN.length]} ${running}`] : []), ...notes].map(clip);
    // Up over what was drawn, then rewrite every line and clear what is left below.
    write(`${drawn > 0 ? `\x1b[${drawn}F` : ''}${all.map((l) => `\x1b[2K${l}\n`).join('')}\x1b[J`);
    drawn = all.length;
  };
  const timer = setInterval(() => {
    frame++;
    if (running) draw();
  }, options.intervalMs ?? 120);
  timer.unref();
  return {
    stepStarted(label) {
      running = label;
      draw();
    },
    stepFinished(label, status, detail) {
      running = undefined;
      lines.push(`${MARK[status] ?? '?'} ${label}${detail ? ` — ${detail}` : ''}`, ...notes);
      notes = [];
      draw();
    },
    note(message) {
      if (running) notes.push(`    ${message}`);
      else lines.push(`    ${message}`);
      draw();
    },
    close() {
      clearInterval(timer);
      running = undefined;
      lines.push(...notes);
      notes = [];
      draw();
    },
  };
}
