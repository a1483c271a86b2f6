import { describe, expect, it } from 'vitest';
import { terminalProgress } from './progress.js';

/** Replays what a terminal would show: cursor-up, clear-line and clear-below are all it needs. */
function screen(output: string): string[] {
  const rows: string[] = [];
  let row = 0;
  for (const token of output.split(/(\x1b\[\d*[FKJ]|\n)/)) {
    const up = /^\x1b\[(\d+)F$/.exec(token);
    if (up) row = Math.max(0, row - Number(up[1]));
    else if (token === '\x1b[2K') rows[row] = '';
    else if (token === '\x1b[J') rows.length = row;
    else if (token === '\n') row++;
    else if (token) rows[row] = (rows[row] ?? '') + token;
  }
  return rows;
}

describe('the live step list', () => {
  it('redraws in place: finished steps marked, the running one spinning, notes under their step', () => {
    let out = '';
    const progress = terminalProgress((t) => (out += t), { columns: 60, intervalMs: 60_000 });

    progress.stepStarted('step 1/3: provision');
    progress.stepFinished('step 1/3: provision', 'ok', 'embedded cluster');
    progress.stepStarted('step 2/3: fault ca-loss');
    progress.note('plan for ca-loss: scale Deployment/istio-system/istiod to 0: the CA stops signing');
    const during = screen(out);
    progress.stepFinished('step 2/3: fault ca-loss', 'failed', 'hypothesis failed');
    progress.close();

    expect(during).toEqual(['✓ step 1/3: provision — embedded cluster', '⠋ step 2/3: fault ca-loss', '    plan for ca-loss: scale Deployment/istio-system/istiod…']);
    expect(screen(out)).toEqual(['✓ step 1/3: provision — embedded cluster', '✗ step 2/3: fault ca-loss — hypothesis failed', '    plan for ca-loss: scale Deployment/istio-system/istiod…']);
  });
});
