import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Whether the real kubectl is on PATH; tests that need it skip with this reason otherwise. */
export async function kubectlAvailable(): Promise<boolean> {
  try {
    await run('kubectl', ['version', '--client']);
    return true;
  } catch {
    return false;
  }
}

/** Runs the real kubectl against a kubeconfig, with its own HOME so no user config or cache leaks in. */
export async function kubectlFor(kubeconfig: string): Promise<(args: string[], input?: string) => Promise<KubectlResult>> {
  const home = await mkdtemp(join(tmpdir(), 'meshdrill-kubectl-'));
  const path = join(home, 'kubeconfig');
  await writeFile(path, kubeconfig);
  const env = { PATH: process.env['PATH'] ?? '', HOME: home, KUBECONFIG: path };
  return (args, input) =>
    new Promise((resolve) => {
      const child = execFile('kubectl', args, { env, timeout: 30_000 }, (error, stdout, stderr) => {
        const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : 1) : 0;
        resolve({ code, stdout, stderr });
      });
      if (input !== undefined) child.stdin?.end(input);
    });
}
