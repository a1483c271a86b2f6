import type { CliIO } from '../../harness/cli/io.js';

/** CLI input/output for driving the real CLI in-process: what it printed, in order, per stream. */
export function captureIO(cwd: string, env: NodeJS.ProcessEnv = {}): CliIO & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t), env, isTTY: false, cwd };
}
