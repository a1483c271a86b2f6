// Start-up of the installed CLI (dist/, as `npx meshdrill` runs it), as ratios to a bare `node -e 0`
// measured in the same run, so a busy machine shifts both alike. Goals: --version and --help
// within 3×, validate of the example repo within 5×.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = fileURLToPath(new URL('../bin/meshdrill.js', import.meta.url));

/** The median wall time of `runs` runs, in ms. */
function median(args: string[], runs = 7): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'ignore' });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (result.status !== 0 && !args.includes('-e')) throw new Error(`meshdrill ${args.slice(1).join(' ')} exited ${result.status}`);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

const bare = median(['-e', '0']);
console.log(`node -e 0: ${bare.toFixed(0)} ms (the reference)`);
for (const [label, args, goal] of [
  ['meshdrill --version', ['--version'], 3],
  ['meshdrill --help', ['--help'], 3],
  ['meshdrill validate examples/shop', ['validate', 'examples/shop'], 5],
] as const) {
  const ms = median([bin, ...args]);
  const ratio = ms / bare;
  console.log(`${label}: ${ms.toFixed(0)} ms = ${ratio.toFixed(1)}× node -e 0  [goal ≤ ${goal}×]${ratio > goal ? '  MISSED' : ''}`);
}

// `npm start`: the example game day (2 simulated hours on the embedded cluster, reports included),
// as a person runs it from a fresh clone; its run record goes to a temporary folder.
{
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { timing } = await import('./reference.js');
  const out = mkdtempSync(join(tmpdir(), 'meshdrill-bench-gameday-'));
  const journal = mkdtempSync(join(tmpdir(), 'meshdrill-bench-journal-'));
  const t0 = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [bin, 'gameday', 'run', 'examples/shop/gameday.yaml', '--out', out, '--journal-dir', journal], { cwd: root, stdio: 'ignore' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  rmSync(out, { recursive: true, force: true });
  rmSync(journal, { recursive: true, force: true });
  console.log(timing(`example game day (npm start, exit ${result.status})`, ms, 4_000));
}
