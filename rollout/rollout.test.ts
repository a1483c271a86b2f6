import { cp, mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { documentsOfKind, loadConfig, runCli, type CliIO } from '../test/helpers/cli.js';
import { meshAdapter } from '../meshes/index.js';
import { createKubeClient, startSimCluster } from '../clusters/index.js';
import { parseAllDocuments } from 'yaml';
import type { Evaluation } from '../slo/index.js';
import { decideStage, type GateHistory } from './decide.js';
import { planStage } from './stage.js';

const SHOP = join(import.meta.dirname, '..', 'examples', 'shop');

async function shop() {
  const repo = await loadConfig(SHOP);
  return { plan: documentsOfKind(repo, 'RolloutPlan')[0]!.data, topology: documentsOfKind(repo, 'Topology')[0]!.data };
}

async function cli(args: string[], cwd: string) {
  let stdout = '';
  let stderr = '';
  const io: CliIO = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: {}, isTTY: false, cwd };
  return { code: await runCli(args, io), stdout, stderr };
}

async function copyShop(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'meshdrill-repo-'));
  await cp(SHOP, dir, { recursive: true });
  return dir;
}

const evaluation = (verdict: Evaluation['verdict']): Evaluation => ({ sli: 'success-rate', scope: {}, objective: '>= 99.9%', verdict, value: 99.95, threshold: 99.9, samples: 1000, window: { from: 0, to: 1 }, reason: `${verdict.toLowerCase()} measurement`, source: 'test' });
const gate = (name: string, verdicts: Array<Evaluation['verdict']>, limits: Partial<GateHistory['limits']> = {}): GateHistory => ({
  name,
  limits: { key: false, failureLimit: 0, inconclusiveLimit: 0, consecutiveSuccessLimit: 1, ...limits },
  measurements: verdicts.map(evaluation),
});

describe('rollout/stage', () => {
  it('meshes the namespaces of every applied stage and applies the latest mTLS mode to all of them', async () => {
    const { plan, topology } = await shop();
    const adapter = meshAdapter('istio');

    const two = planStage(plan, topology, 2, adapter);
    const five = planStage(plan, topology, 5, adapter);

    expect(two.namespaces.filter((n) => n.meshed).map((n) => `${n.namespace}:${n.mtls}`)).toEqual(['frontend:PERMISSIVE', 'catalog:PERMISSIVE', 'accounts:PERMISSIVE']);
    expect(five.namespaces.filter((n) => n.meshed).map((n) => n.mtls)).toEqual(Array(6).fill('STRICT'));
    expect(five.namespaces.find((n) => n.namespace === 'legacy')).toEqual({ namespace: 'legacy', meshed: false });
    expect(five.policies.map((p) => `${p.kind}/${p.metadata.namespace}`)).toContain('PeerAuthentication/payments');
    expect(planStage(plan, topology, 0, adapter).policies).toEqual([]);
  });
});

describe('rollout/decide', () => {
  it.each([
    ['every gate passed', 'advance', [gate('a', ['Successful']), gate('b', ['Successful'])]],
    ['a gate failed beyond its limit', 'revert', [gate('a', ['Successful']), gate('b', ['Failed'])]],
    ['a failure within failureLimit', 'advance', [gate('a', ['Failed', 'Successful'], { failureLimit: 1 })]],
    ['too few consecutive successes', 'hold', [gate('a', ['Successful'], { consecutiveSuccessLimit: 3 })]],
    ['inconclusive beyond its limit', 'hold', [gate('a', ['Inconclusive', 'Inconclusive'], { inconclusiveLimit: 1 })]],
    ['an error counts as inconclusive', 'hold', [gate('a', ['Error'])]],
    ['no measurement yet', 'hold', [gate('a', [])]],
  ] as const)('%s → %s', (_name, verdict, histories) => {
    expect(decideStage([...histories], { now: 0, lastStage: false }).verdict).toBe(verdict);
  });

  it('names the key gate when it alone fails the stage', () => {
    const decision = decideStage([gate('availability', ['Failed'], { key: true }), gate('latency', ['Failed'])], { now: 0, lastStage: false });

    expect(decision.reasons).toEqual(['key gate availability failed: 1 failed measurement (limit 0); last: failed measurement']);
  });

  it('holds instead of advancing during the cool-down after a revert, and at the last stage', () => {
    const passing = [gate('a', ['Successful'])];

    expect(decideStage(passing, { now: 1_000, coolDownUntil: 2_000, lastStage: false })).toMatchObject({ verdict: 'hold', reasons: ['every gate passed, but the plan is cooling down after a revert until 1970-01-01T00:00:02.000Z'] });
    expect(decideStage(passing, { now: 3_000, coolDownUntil: 2_000, lastStage: false }).verdict).toBe('advance');
    expect(decideStage(passing, { now: 0, lastStage: true }).verdict).toBe('hold');
  });
});

describe('meshdrill rollout render', () => {
  it('writes the stage into the repo, editing only the lines that change and keeping comments', async () => {
    const dir = await copyShop();
    const planBefore = await readFile(join(dir, 'rollout-plan.yaml'), 'utf8');
    const namespacesBefore = await readFile(join(dir, 'manifests', 'namespaces.yaml'), 'utf8');

    const result = await cli(['rollout', 'render', '.', '--stage', '2'], dir);

    expect(result.code).toBe(0);
    const plan = await readFile(join(dir, 'rollout-plan.yaml'), 'utf8');
    expect(plan).toBe(planBefore.replace('status:\n  stage: 0\n', 'status:\n  stage: 2\n'));
    const namespaces = await readFile(join(dir, 'manifests', 'namespaces.yaml'), 'utf8');
    expect(namespaces).toBe(namespacesBefore.replace('    team: web\n', '    team: web\n    istio-injection: enabled\n'));
    expect((await readdir(join(dir, 'meshdrill', 'shop-migration'))).sort()).toEqual(['mtls.yaml', 'namespaces.yaml']);
    const generated = parseAllDocuments(await readFile(join(dir, 'meshdrill', 'shop-migration', 'namespaces.yaml'), 'utf8'));
    expect(Array.isArray(generated) ? generated.map((d) => `${String(d.getIn(['metadata', 'name']))}:${String(d.getIn(['metadata', 'labels', 'istio-injection']))}`) : []).toEqual(['catalog:enabled', 'accounts:enabled']);
  });

  it('renders back to stage 0: the user\'s files byte for byte, the policies gone, the namespaces it wrote kept unmeshed and prune-safe', async () => {
    const dir = await copyShop();
    const before = await readFile(join(dir, 'manifests', 'namespaces.yaml'), 'utf8');
    const planBefore = await readFile(join(dir, 'rollout-plan.yaml'), 'utf8');

    await cli(['rollout', 'render', '.', '--stage', '5'], dir);
    await cli(['rollout', 'render', '.', '--stage', '0'], dir);

    expect(await readFile(join(dir, 'manifests', 'namespaces.yaml'), 'utf8')).toBe(before);
    expect(await readFile(join(dir, 'rollout-plan.yaml'), 'utf8')).toBe(planBefore);
    expect(await readdir(join(dir, 'meshdrill', 'shop-migration'))).toEqual(['namespaces.yaml']);
    // A GitOps engine prunes what leaves its source; a pruned Namespace takes its workloads with it.
    const kept = parseAllDocuments(await readFile(join(dir, 'meshdrill', 'shop-migration', 'namespaces.yaml'), 'utf8'));
    const docs = Array.isArray(kept) ? kept.map((d) => d.toJS() as { metadata: { name: string; labels?: Record<string, string>; annotations: Record<string, string> } }) : [];
    expect(docs.map((d) => d.metadata.name)).toEqual(['ingress', 'catalog', 'checkout', 'accounts']);
    for (const d of docs) {
      expect(d.metadata.labels?.['istio-injection']).toBeUndefined();
      expect(d.metadata.annotations).toMatchObject({ 'kustomize.toolkit.fluxcd.io/prune': 'disabled', 'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false' });
    }
  });

  it('with --dry-run says what it would write and writes nothing', async () => {
    const dir = await copyShop();
    const before = await readFile(join(dir, 'rollout-plan.yaml'), 'utf8');

    const result = await cli(['rollout', 'render', '.', '--stage', '1', '--dry-run'], dir);

    expect(result.stdout.split('\n').filter(Boolean)).toEqual([
      'info  DRY-RUN: would update file=manifests/namespaces.yaml',
      'info  DRY-RUN: would update file=rollout-plan.yaml',
      'info  DRY-RUN: would create file=meshdrill/shop-migration/mtls.yaml',
    ]);
    expect(await readFile(join(dir, 'rollout-plan.yaml'), 'utf8')).toBe(before);
  });

  it('renders objects a Kubernetes API server accepts with strict field validation', async () => {
    const dir = await copyShop();
    await cli(['rollout', 'render', '.', '--stage', '5'], dir);
    const cluster = await startSimCluster();
    try {
      const kube = createKubeClient(cluster.kubeconfig);
      for (const o of await meshAdapter('istio').installManifests()) await kube.apply(o);
      for (const file of ['manifests/namespaces.yaml', 'meshdrill/shop-migration/namespaces.yaml', 'meshdrill/shop-migration/mtls.yaml']) {
        const docs = parseAllDocuments(await readFile(join(dir, file), 'utf8'));
        for (const doc of Array.isArray(docs) ? docs : []) await kube.apply(doc.toJS());
      }

      const payments = await kube.get('security.istio.io/v1', 'PeerAuthentication', 'payments', 'default');
      const frontend = await kube.get('v1', 'Namespace', undefined, 'frontend');
      expect(payments?.['spec']).toEqual({ mtls: { mode: 'STRICT' } });
      expect(frontend?.metadata.labels?.['istio-injection']).toBe('enabled');
    } finally {
      await cluster.close();
    }
  });

  it('refuses a stage out of range and an unknown plan, with exit 2', async () => {
    const out = await cli(['rollout', 'plan', SHOP, '--stage', '9'], SHOP);
    const unknown = await cli(['rollout', 'status', SHOP, '--plan', 'shop-migratoin'], SHOP);

    expect([out.code, out.stderr]).toEqual([2, 'meshdrill: --stage: expected a stage from 0 to 5; found "9"\n']);
    expect(unknown.stderr).toBe(`meshdrill: no RolloutPlan "shop-migratoin" in ${SHOP}; did you mean "shop-migration"? (found: shop-migration)\n`);
  });
});
