import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliIO } from '../../harness/cli/io.js';
import { runCli } from '../../harness/cli/main.js';

const ROOT = join(import.meta.dirname, '..', '..');
const docker = spawnSync('docker', ['info'], { encoding: 'utf8' });
const tools = ['kind', 'helm'].filter((t) => spawnSync(t, ['version'], { encoding: 'utf8' }).status !== 0);
const reason = docker.status !== 0 ? `docker info failed (${(docker.error?.message ?? docker.stderr ?? '').trim().split('\n')[0] || 'no Docker engine'})` : tools.length ? `missing ${tools.join(', ')}` : '';
if (reason) console.log(`e2e-kind skipped: ${reason}; these tests need Docker, kind ≥ v0.24 and helm`);

// The example game day on a real kind cluster with real Istio. Minutes, not seconds: run with
// `npx vitest run test/e2e-kind` on a machine with Docker.
describe.skipIf(reason !== '')('the example game day on kind with real Istio', () => {
  it('runs, reverts every fault, and deletes the cluster', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-e2e-kind-'));
    await cp(join(ROOT, 'examples', 'shop'), dir, { recursive: true });
    await writeFile(join(dir, 'cluster.yaml'), 'apiVersion: meshdrill.dev/v1alpha1\nkind: Cluster\nmetadata: {name: embedded}\nspec: {provider: kind, nodes: 2, kubernetesVersion: "1.34"}\n');
    const plan = await readFile(join(dir, 'rollout-plan.yaml'), 'utf8');
    await writeFile(join(dir, 'rollout-plan.yaml'), plan.replace('mesh: {name: istio, mode: sidecar}', 'mesh: {name: istio, mode: sidecar, version: 1.27.1}'));
    const out: string[] = [];
    const io: CliIO = { stdout: (t) => out.push(t), stderr: (t) => process.stderr.write(t), env: process.env, isTTY: false, cwd: dir };

    const code = await runCli(['gameday', 'run', 'gameday.yaml', '--out', 'out'], io);

    expect(out.join('')).toContain('game day weekly-mesh-resilience');
    expect([0, 1]).toContain(code);
    expect(spawnSync('kind', ['get', 'clusters'], { encoding: 'utf8' }).stdout).not.toMatch(/^meshdrill-gameday/m);
  }, 3 * 3_600_000);
});
