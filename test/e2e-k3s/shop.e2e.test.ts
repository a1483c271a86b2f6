import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliIO } from '../../harness/cli/io.js';
import { runCli } from '../../harness/cli/main.js';

const ROOT = join(import.meta.dirname, '..', '..');
const docker = spawnSync('docker', ['info'], { encoding: 'utf8' });
const helm = spawnSync('helm', ['version'], { encoding: 'utf8' });
const reason = docker.status !== 0 ? `docker info failed (${(docker.error?.message ?? docker.stderr ?? '').trim().split('\n')[0] || 'no Docker engine'})` : helm.status !== 0 ? 'missing helm' : '';
if (reason) console.log(`e2e-k3s skipped: ${reason}; these tests need Docker (privileged containers) and helm`);

// The example game day on k3s started through testcontainers, with real Istio. Minutes, not
// seconds: run with `npx vitest run test/e2e-k3s` on a machine with Docker.
describe.skipIf(reason !== '')('the example game day on k3s with real Istio', () => {
  it('runs, reverts every fault, and stops the container', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-e2e-k3s-'));
    await cp(join(ROOT, 'examples', 'shop'), dir, { recursive: true });
    await writeFile(join(dir, 'cluster.yaml'), 'apiVersion: meshdrill.dev/v1alpha1\nkind: Cluster\nmetadata: {name: embedded}\nspec: {provider: k3s, nodes: 1, kubernetesVersion: "1.34"}\n');
    const plan = await readFile(join(dir, 'rollout-plan.yaml'), 'utf8');
    await writeFile(join(dir, 'rollout-plan.yaml'), plan.replace('mesh: {name: istio, mode: sidecar}', 'mesh: {name: istio, mode: sidecar, version: 1.27.1}'));
    const out: string[] = [];
    const io: CliIO = { stdout: (t) => out.push(t), stderr: (t) => process.stderr.write(t), env: process.env, isTTY: false, cwd: dir };

    const code = await runCli(['gameday', 'run', 'gameday.yaml', '--out', 'out'], io);

    expect(out.join('')).toContain('game day weekly-mesh-resilience');
    expect([0, 1]).toContain(code);
    expect(spawnSync('docker', ['ps', '--filter', 'ancestor=rancher/k3s:v1.34.1-k3s1', '-q'], { encoding: 'utf8' }).stdout.trim()).toBe('');
  }, 3 * 3_600_000);
});
