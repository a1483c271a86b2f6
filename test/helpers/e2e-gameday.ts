import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliIO } from '../../harness/cli/io.js';
import { runCli } from '../../harness/cli/main.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** Why a Docker-backed end-to-end test cannot run here, or '' when it can: the engine and the named tools. */
export function dockerSkipReason(tools: string[]): string {
  const docker = spawnSync('docker', ['info'], { encoding: 'utf8' });
  if (docker.status !== 0) return `docker info failed (${(docker.error?.message ?? docker.stderr ?? '').trim().split('\n')[0] || 'no Docker engine'})`;
  const missing = tools.filter((t) => spawnSync(t, ['version'], { encoding: 'utf8' }).status !== 0);
  return missing.length ? `missing ${missing.join(', ')}` : '';
}

/** A copy of the example repo whose game day runs on `clusterSpec` (a Cluster spec in flow YAML), with Istio's version pinned as real installs need. */
export async function exampleRepoOn(clusterSpec: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'meshdrill-e2e-'));
  await cp(join(ROOT, 'examples', 'shop'), dir, { recursive: true });
  await writeFile(join(dir, 'cluster.yaml'), `apiVersion: meshdrill.dev/v1alpha1\nkind: Cluster\nmetadata: {name: embedded}\nspec: ${clusterSpec}\n`);
  const plan = await readFile(join(dir, 'rollout-plan.yaml'), 'utf8');
  await writeFile(join(dir, 'rollout-plan.yaml'), plan.replace('mesh: {name: istio, mode: sidecar}', 'mesh: {name: istio, mode: sidecar, version: 1.27.1}'));
  return dir;
}

/** The example game day on `clusterSpec`, run through the CLI; its log goes to this process's stderr. */
export async function runExampleGameDayOn(clusterSpec: string): Promise<{ code: number; out: string }> {
  const dir = await exampleRepoOn(clusterSpec);
  const out: string[] = [];
  const io: CliIO = { stdout: (t) => out.push(t), stderr: (t) => process.stderr.write(t), env: process.env, isTTY: false, cwd: dir };
  const code = await runCli(['gameday', 'run', 'gameday.yaml', '--out', 'out'], io);
  return { code, out: out.join('') };
}
