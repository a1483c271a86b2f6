import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify, parse } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { createKubeClient, startSimCluster, type SimCluster } from '../../clusters/index.js';
import { runCli } from './main.js';
import { captureIO } from '../../test/helpers/cli.js';

const sims: SimCluster[] = [];
afterEach(async () => {
  for (const s of sims.splice(0)) await s.close();
});

describe('meshdrill init', () => {
  it('scaffolds a repo that validates and whose game day runs, and will not overwrite it without --force', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-init-'));

    const code = await runCli(['init', 'repo', '--name', 'orders'], captureIO(dir));
    const validate = captureIO(dir);
    const valid = await runCli(['validate', 'repo'], validate);
    const gameday = await runCli(['gameday', 'run', 'repo/gameday.yaml', '--out', 'out'], captureIO(dir));
    const again = captureIO(dir);
    const refused = await runCli(['init', 'repo'], again);

    expect(code).toBe(0);
    expect((await readdir(join(dir, 'repo'))).sort()).toEqual(['.github', '.gitignore', 'check.yaml', 'gameday.yaml', 'rollout-plan.yaml', 'schemas', 'slos.yaml', 'topology.yaml']);
    expect(valid).toBe(0);
    expect(validate.out.join('')).toMatch(/^✓ repo: valid \(1 CheckConfig, 1 GameDay, 1 RolloutPlan, 2 SLO, 1 Topology\)/);
    expect([0, 1]).toContain(gameday);
    expect(refused).toBe(2);
    expect(again.err.join('')).toMatch(/already has .*topology\.yaml.*; choose an empty directory or pass --force/);
  });

  it('refuses a bad --prometheus or --window before writing anything', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-init-'));
    const badUrl = captureIO(dir);
    const badWindow = captureIO(dir);

    const codes = [await runCli(['init', 'repo', '--prometheus', 'prometheus:9090:x'], badUrl), await runCli(['init', 'repo', '--prometheus', 'http://127.0.0.1:9090', '--window', '5 minutes'], badWindow)];

    expect(codes).toEqual([2, 2]);
    expect(badUrl.err.join('')).toBe('meshdrill: --prometheus: expected a URL like http://localhost:9090; found "prometheus:9090:x"\n');
    expect(badWindow.err.join('')).toBe('meshdrill: --window: expected a duration like "1h" or "30m"; found "5 minutes"\n');
    expect(await readdir(dir)).toEqual([]);
  });

  it('writes workflows that post the check on pull requests and keep one issue while the game day fails', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-init-'));
    await runCli(['init', 'repo'], captureIO(dir));
    type Step = { uses?: string; run?: string; if?: string; env?: Record<string, string>; with?: Record<string, string> };
    type Workflow = { permissions: Record<string, string>; jobs: Record<string, { steps: Step[] }> };
    const check = parse(await readFile(join(dir, 'repo', '.github', 'workflows', 'meshdrill-check.yml'), 'utf8')) as Workflow;
    const gameday = parse(await readFile(join(dir, 'repo', '.github', 'workflows', 'meshdrill-gameday.yml'), 'utf8')) as Workflow;
    const gate = parse(await readFile(join(dir, 'repo', '.github', 'workflows', 'meshdrill-rollout-gate.yml'), 'utf8')) as Workflow;

    // The pinned action runs meshdrill; no step fetches it by name.
    expect(check.jobs['check']!.steps.find((s) => s.uses?.startsWith('meshdrill/meshdrill@'))!.with).toEqual({ command: 'check' });
    expect(check.permissions).toMatchObject({ checks: 'write', 'pull-requests': 'write' });
    const issue = gameday.jobs['gameday']!.steps.find((s) => s.with?.['command'] === 'report')!;
    expect(issue.with).toMatchObject({ path: 'meshdrill-run/run.json', args: '--github-issue' });
    expect(issue.if).toContain('always()');
    expect(gameday.permissions).toMatchObject({ issues: 'write' });
    // Reports only: nothing else of the run folder (a made cluster's kubeconfig) is uploaded.
    const upload = gameday.jobs['gameday']!.steps.find((s) => s.uses?.startsWith('actions/upload-artifact'))!;
    expect(String(upload.with!['path']).trim().split('\n')).toEqual(['meshdrill-run/run.json', 'meshdrill-run/report.html']);
    // The gate opens pull requests with an App token, so their checks run.
    expect(gate.jobs['gate']!.steps.find((s) => s.with?.['command'] === 'gate')!.with!['token']).toBe('${{ steps.app.outputs.token }}');
    expect(await readFile(join(dir, 'repo', '.gitignore'), 'utf8')).toContain('.meshdrill/');
  });

  it('discovers namespaces from a cluster through a named context: a service per Service with the replicas behind it, and workloads no Service selects', async () => {
    const sim = await startSimCluster({ time: 'virtual' });
    sims.push(sim);
    const kube = createKubeClient(sim.kubeconfig);
    await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'orders' } });
    const deployment = (name: string, labels: Record<string, string>, replicas: number) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: 'orders' }, spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } } } });
    // Two versions behind one Service, and a job no Service selects.
    await kube.apply(deployment('api-v1', { app: 'api', version: 'v1' }, 3));
    await kube.apply(deployment('api-v2', { app: 'api', version: 'v2' }, 1));
    await kube.apply(deployment('reconcile', { app: 'reconcile' }, 1));
    await kube.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', namespace: 'orders' }, spec: { selector: { app: 'api' }, ports: [{ port: 8080 }] } });
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-init-'));
    const base = parse(sim.kubeconfig) as Record<string, unknown>;
    await writeFile(join(dir, 'kubeconfig'), stringify({ ...base, contexts: [{ name: 'staging', context: (base['contexts'] as Array<{ context: unknown }>)[0]!.context }], 'current-context': 'staging' }));

    const code = await runCli(['init', 'repo', '--kubeconfig', 'kubeconfig', '--context', 'staging'], captureIO(dir));

    expect(code).toBe(0);
    // Discovery reads the context in memory: no kubeconfig (and no token) lands in the new repo.
    expect((await readdir(join(dir, 'repo'), { recursive: true })).filter((f) => f.includes('kubeconfig'))).toEqual([]);
    const topology = parse((await import('node:fs')).readFileSync(join(dir, 'repo', 'topology.yaml'), 'utf8')) as { spec: { namespaces: Array<{ name: string; services: Array<{ name: string; replicas: number }> }> } };
    expect(topology.spec.namespaces).toEqual([{ name: 'orders', services: [{ name: 'api', replicas: 4 }, { name: 'reconcile', replicas: 1 }] }]);
  });
});
