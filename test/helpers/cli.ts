import type { CliIO } from '../../harness/cli/io.js';

/** CLI input/output for driving the real CLI in-process: what it printed, in order, per stream. */
export function captureIO(cwd: string, env: NodeJS.ProcessEnv = {}): CliIO & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t), env, isTTY: false, cwd };
}

// Tests beside the code that drive the whole CLI (or load a config repo as the CLI does) reach it
// through here: the test floor sits above every folder, so lower folders never import harness/.
export { runCli } from '../../harness/cli/main.js';
export { checkCommand } from '../../harness/cli/check-command.js';
export { reportCommand } from '../../harness/cli/report-command.js';
export { asTheRepoWants, rolloutGate } from '../../harness/rollout-gate.js';
export { documentsOfKind, loadConfig } from '../../harness/config/index.js';
export type { CliIO };
