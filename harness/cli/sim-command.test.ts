import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { kubectlAvailable, kubectlFor } from '../../test/helpers/kubectl.js';

const ROOT = join(import.meta.dirname, '..', '..');
const hasKubectl = await kubectlAvailable();
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

/** Starts `meshdrill sim serve` and resolves with its URL once it says it is serving. */
function serve(args: string[]): Promise<{ child: ChildProcess; url: string; exited: Promise<{ code: number | null; stderr: string }> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'harness', 'bin.ts'), 'sim', 'serve', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
  return new Promise((resolve, reject) => {
    let out = '';
    // A start that never says it is serving fails with what the process printed, not a bare test timeout.
    const timer = setTimeout(() => reject(new Error(`sim serve did not start within 30 s; stdout: ${out}; stderr: ${stderr}`)), 30_000);
    child.on('exit', () => clearTimeout(timer));
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /serving at (http:\/\/[\d.:]+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]!, exited });
      }
    });
    child.on('exit', (code) => reject(new Error(`sim serve exited ${String(code)}: ${stderr}`)));
  });
}

describe.skipIf(!hasKubectl)('meshdrill sim serve', () => {
  it('serves kubectl, moves virtual time through the admin API, and keeps its state across a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-serve-'));
    const kubeconfigPath = join(dir, 'kubeconfig');
    const statePath = join(dir, 'state.json');
    const first = await serve(['--time', 'virtual', '--state', statePath, '--kubeconfig', kubeconfigPath, '--nodes', '2']);
    const kubectl = await kubectlFor(await readFile(kubeconfigPath, 'utf8'));

    await kubectl(['create', 'deployment', 'web', '--image=nginx', '--replicas=2']);
    const before = await kubectl(['get', 'pods', '-o', 'jsonpath={.items[*].status.phase}']);
    const advanced = await fetch(`${first.url}/sim/v1/advance?by=10s`, { method: 'POST' });
    const after = await kubectl(['get', 'pods', '-o', 'jsonpath={.items[*].status.phase}']);
    first.child.kill('SIGTERM');
    const stopped = await first.exited;

    const second = await serve(['--time', 'virtual', '--state', statePath, '--kubeconfig', kubeconfigPath]);
    const kubectl2 = await kubectlFor(await readFile(kubeconfigPath, 'utf8'));
    const restored = await kubectl2(['get', 'deployment', 'web', '-o', 'jsonpath={.status.availableReplicas}']);
    second.child.kill('SIGTERM');
    await second.exited;

    expect(before.stdout).toBe('Pending Pending');
    expect(advanced.status).toBe(200);
    expect(after.stdout).toBe('Running Running');
    expect(stopped.code).toBe(0);
    expect(stopped.stderr).toContain('stopped (SIGTERM); state saved to');
    expect(restored.stdout).toBe('2');
  }, 60_000); // two process starts and eight kubectl runs; slow when the other test files load the machine

  it('refuses a bad flag value with exit 2', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'harness', 'bin.ts'), 'sim', 'serve', '--nodes', 'many'], { cwd: ROOT });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));

    const code = await new Promise((resolve) => child.on('exit', resolve));

    expect(code).toBe(2);
    expect(stderr).toBe('meshdrill: --nodes: expected a whole number from 1 to 100; found "many"\n');
  });
});
