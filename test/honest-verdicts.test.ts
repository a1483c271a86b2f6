import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { attachMeshTwin, createKubeClient, startSimCluster, type KubeClient, type SimCluster } from '../clusters/index.js';
import { captureIO, runCli } from './helpers/cli.js';

// A verdict people can bet production on: silence is never success, no fault goes in on a broken
// steady state, every failure says why, and a dry run says what it was.

const SHOP = join(import.meta.dirname, '..', 'examples', 'shop');
const sims: SimCluster[] = [];
afterEach(async () => {
  for (const sim of sims.splice(0)) await sim.close();
});

async function served(): Promise<{ sim: SimCluster; kube: KubeClient }> {
  const sim = await startSimCluster({ time: 'virtual' });
  attachMeshTwin(sim);
  sims.push(sim);
  return { sim, kube: createKubeClient(sim.kubeconfig) };
}

async function shop(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'meshdrill-verdicts-'));
  await cp(SHOP, dir, { recursive: true });
  return dir;
}

/** The example game day with its spec changed by `edit`. */
type GameDaySpec = { [key: string]: unknown; steps: Array<{ [key: string]: unknown }>; hypotheses: Array<{ [key: string]: unknown }> };

async function editGameDay(dir: string, edit: (spec: GameDaySpec) => void): Promise<void> {
  const doc = parse(await readFile(join(dir, 'gameday.yaml'), 'utf8')) as { spec: Parameters<typeof edit>[0] };
  edit(doc.spec);
  await writeFile(join(dir, 'gameday.yaml'), stringify(doc));
}

async function snapshot(kube: KubeClient): Promise<string[]> {
  const out: string[] = [];
  for (const [apiVersion, kind] of [['v1', 'Namespace'], ['v1', 'Service'], ['apps/v1', 'Deployment'], ['v1', 'Secret'], ['networking.k8s.io/v1', 'NetworkPolicy'], ['coordination.k8s.io/v1', 'Lease']] as const) {
    for (const o of await kube.list(apiVersion, kind)) out.push(`${kind} ${o.metadata.namespace ?? ''}/${o.metadata.name} ${JSON.stringify(o['spec'] ?? o['data'] ?? null)}`);
  }
  return out.sort();
}

interface RunRecord {
  outcome: { verdict: string; reasons: string[]; warnings?: string[] };
  hypotheses: Array<{ name: string; outcome: string; reason: string; evaluations: Array<{ value: number | null }> }>;
  faults: unknown[];
  timeline: Array<{ type: string; message: string }>;
}
const record = async (dir: string, out = 'out'): Promise<RunRecord> => JSON.parse(await readFile(join(dir, out, 'run.json'), 'utf8')) as RunRecord;

describe('a served embedded cluster is a whole cluster', () => {
  it('gameday run --kubeconfig against it measures the SLIs through its Prometheus API and passes the example game day', async () => {
    const cluster = await served();
    const dir = await shop();
    await writeFile(join(dir, 'kubeconfig'), cluster.sim.kubeconfig);
    const io = captureIO(dir);

    const code = await runCli(['gameday', 'run', 'gameday.yaml', '--kubeconfig', 'kubeconfig', '--out', 'out', '--journal-dir', 'journal'], io);
    const run = await record(dir);

    expect(io.out.join('')).toContain('game day weekly-mesh-resilience: PASS (sim (served) cluster');
    expect(code).toBe(0);
    expect(run.hypotheses[0]!.evaluations.filter((e) => e.value !== null).length).toBeGreaterThan(100);
    expect(run.timeline.map((e) => e.message)).toContain('steady state holds: 1 hypothesis over the window before the first fault');
  });
});

describe('no steady state, no experiment', () => {
  it('a game day whose steady state is broken injects nothing, and says which hypothesis and by how much', async () => {
    const cluster = await served();
    const dir = await shop();
    await writeFile(join(dir, 'kubeconfig'), cluster.sim.kubeconfig);
    // A hypothesis the shop cannot meet: checkout's p99 under a millisecond.
    await editGameDay(dir, (spec) => spec.hypotheses.push({ name: 'impossibly-fast', gates: [{ sli: 'latency-p99', scope: { namespace: 'checkout' }, objective: '<= 1ms', window: '5m', minSamples: 10 }] }));
    const before = await snapshot(cluster.kube);
    const io = captureIO(dir);

    const code = await runCli(['gameday', 'run', 'gameday.yaml', '--kubeconfig', 'kubeconfig', '--out', 'out', '--journal-dir', 'journal'], io);
    const run = await record(dir);

    expect(code).toBe(1);
    expect(run.outcome.verdict).toBe('steady-state-not-met');
    expect(run.outcome.reasons[0]).toMatch(/^the steady state does not hold before the first fault, so no fault was injected: hypothesis impossibly-fast: latency-p99 checkout [\d.]+ms misses <= 1ms by [\d.]+ms over the 10m before it$/);
    expect(run.faults).toEqual([]);
    expect(run.timeline.some((e) => e.type === 'fault-injected')).toBe(false);
    expect(io.out.join('')).toContain('STEADY STATE NOT MET');
    expect(await snapshot(cluster.kube)).toEqual(before);
  });
});

describe('silence is never success', () => {
  const quiet = (onNoData?: string) => (spec: GameDaySpec) => {
    // legacy/reporting calls nothing: an edge out of it never carries a request.
    spec.hypotheses = [{ name: 'quiet-edge', ...(onNoData ? { onNoData } : {}), gates: [{ sli: 'success-rate', scope: { edge: { from: 'legacy/reporting', to: 'payments/api' } }, source: 'client', objective: '>= 99%', minSamples: 1 }] }];
    spec.steps = spec.steps.filter((s) => !('fault' in s) && !('assert' in s));
  };

  it('a hypothesis over a scope with no traffic fails the run with "no data"', async () => {
    const dir = await shop();
    await editGameDay(dir, quiet());
    const io = captureIO(dir);

    const code = await runCli(['gameday', 'run', 'gameday.yaml', '--out', 'out'], io);
    const run = await record(dir);

    expect(code).toBe(1);
    expect(run.outcome.verdict).toBe('fail');
    expect(run.hypotheses[0]).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/no evidence it holds: \d+ evaluations, none conclusive \(last at .*: no data in the window\)/) });
    expect(io.out.join('')).toContain('FAILED hypothesis quiet-edge');
  });

  it('the same with onNoData: ignore passes, with a warning', async () => {
    const dir = await shop();
    await editGameDay(dir, quiet('ignore'));
    const io = captureIO(dir);

    const code = await runCli(['gameday', 'run', 'gameday.yaml', '--out', 'out'], io);
    const run = await record(dir);

    expect(code).toBe(0);
    expect(run.outcome.verdict).toBe('pass');
    expect(run.outcome.warnings).toEqual([expect.stringMatching(/^hypothesis quiet-edge: success-rate legacy\/reporting → payments\/api has no evidence it holds: .*; ignored \(onNoData: ignore\)$/)]);
    expect(io.out.join('')).toContain('warning: hypothesis quiet-edge');
  });

  it('with onNoData: inconclusive the run is neither pass nor fail', async () => {
    const dir = await shop();
    await editGameDay(dir, quiet('inconclusive'));
    const io = captureIO(dir);

    const code = await runCli(['gameday', 'run', 'gameday.yaml', '--out', 'out'], io);

    expect(code).toBe(1);
    expect((await record(dir)).outcome.verdict).toBe('inconclusive');
    expect(io.out.join('')).toContain('INCONCLUSIVE');
  });
});

describe('every failure says why', () => {
  const cases: Array<[string, (dir: string) => Promise<string[]>, RegExp]> = [
    [
      'kind is not installed',
      async (dir) => {
        await writeFile(join(dir, 'cluster.yaml'), 'apiVersion: meshdrill.dev/v1alpha1\nkind: Cluster\nmetadata: {name: embedded}\nspec: {provider: kind, nodes: 1}\n');
        const plan = await readFile(join(dir, 'rollout-plan.yaml'), 'utf8');
        await writeFile(join(dir, 'rollout-plan.yaml'), plan.replace('mesh: {name: istio, mode: sidecar}', 'mesh: {name: istio, mode: sidecar, version: 1.27.1}'));
        return ['gameday', 'run', 'gameday.yaml', '--out', 'out'];
      },
      /kind is not installed \(not on PATH\); install kind ≥ v0\.24/,
    ],
    [
      'no mesh on an existing cluster',
      async (dir) => {
        const cluster = await served();
        const config = parse(cluster.sim.kubeconfig) as { contexts: Array<{ name: string }>; 'current-context': string };
        config.contexts[0]!.name = 'staging';
        config['current-context'] = 'staging';
        await writeFile(join(dir, 'kubeconfig'), stringify(config));
        return ['gameday', 'run', 'gameday.yaml', '--kubeconfig', 'kubeconfig', '--context', 'staging', '--yes-really', 'staging', '--out', 'out'];
      },
      /istio is not running in istio-system on this cluster; meshdrill does not install onto existing clusters — install it first/,
    ],
    [
      'a game day with no load step',
      async (dir) => {
        await editGameDay(dir, (spec) => void (spec.steps = spec.steps.filter((s) => !('load' in s) && !('fault' in s) && !('assert' in s))));
        return ['gameday', 'run', 'gameday.yaml', '--out', 'out'];
      },
      /PASS|hypothes/,
    ],
  ];

  it.each(cases)('%s: one line naming the cause, a summary and a rendered report', async (_name, arrange, cause) => {
    const dir = await shop();
    const args = await arrange(dir);
    const io = captureIO(dir, { PATH: '/usr/bin:/bin' });

    const code = await runCli(args, io);
    const html = await readFile(join(dir, 'out', 'report.html'), 'utf8');

    expect(io.err.join('') + io.out.join('')).not.toContain('unexpected error');
    expect(io.out.join('')).toMatch(cause);
    expect(io.out.join('')).toContain('report: out/report.html');
    expect(html).toContain('</html>');
    if (!/PASS/.test(io.out.join(''))) expect(code).toBe(3);
  });
});

describe('a dry run says so', () => {
  it('ends dry-run, with a banner in every format, and stays out of trends', async () => {
    const dir = await shop();
    const io = captureIO(dir);

    const code = await runCli(['gameday', 'run', 'gameday.yaml', '--dry-run', '--out', 'dry'], io);
    const md = captureIO(dir);
    await runCli(['report', 'dry/run.json', '--format', 'md'], md);
    const junit = captureIO(dir);
    await runCli(['report', 'dry/run.json', '--format', 'junit'], junit);
    const real = captureIO(dir);
    await runCli(['gameday', 'run', 'gameday.yaml', '--out', 'real'], real);
    const trend = captureIO(dir);
    await runCli(['report', 'trend', 'dry/run.json', 'real/run.json'], trend);

    expect(code).toBe(0);
    expect((await record(dir, 'dry')).outcome.verdict).toBe('dry-run');
    expect(io.out.join('')).toMatch(/^DRY RUN: every fault was planned and none injected/);
    expect(await readFile(join(dir, 'dry', 'report.html'), 'utf8')).toContain('DRY RUN: every fault was planned and none injected');
    expect(md.out.join('')).toContain('**DRY RUN**');
    expect(junit.out.join('')).toContain('DRY RUN');
    expect(trend.out.join('')).toMatch(/^1 runs,/);
    expect(trend.out.join('')).toContain('left out: 1 dry run');
  });
});
