import { cp, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { attachMeshTwin, createKubeClient, isPodReady, startSimCluster, type KubeObject, type SimCluster } from '../clusters/index.js';
import { meshAdapter } from '../meshes/index.js';
import { captureIO, runCli } from './helpers/cli.js';
import { kubectlAvailable, kubectlFor } from './helpers/kubectl.js';

// A scheduled game day as a CronJob in the staging cluster it rehearses on: its faults run as the
// service account `meshdrill cronjob --gameday` writes, held to the RBAC it generated, and every
// permission it grants is one the run used.
const hasKubectl = await kubectlAvailable();
const SHOP = join(import.meta.dirname, '..', 'examples', 'shop');
const sims: SimCluster[] = [];
afterEach(async () => {
  for (const sim of sims.splice(0)) await sim.close();
});

const GAMEDAY = {
  apiVersion: 'meshdrill.dev/v1alpha1',
  kind: 'GameDay',
  metadata: { name: 'staging-faults' },
  spec: {
    plan: 'shop-migration',
    schedule: '0 6 * * 1',
    steps: [
      { provision: {} },
      { install: {} },
      { fault: { type: 'control-plane-partition', namespaces: ['frontend'], duration: '1s' } },
      { fault: { type: 'ca-loss', variant: 'secret-deleted', duration: '1s' } },
      { fault: { type: 'control-plane-crash', method: 'scale-to-zero', duration: '1s' } },
    ],
  },
};

describe.skipIf(!hasKubectl)('meshdrill in the cluster: a game day as a CronJob', () => {
  it('runs its faults as its own service account, is refused nothing, reverts everything, and uses every permission it was granted', async () => {
    const sim = await startSimCluster({ tls: true, time: 'real', podStartDelayMs: 10 });
    sims.push(sim);
    attachMeshTwin(sim);
    const admin = createKubeClient(sim.kubeconfig);
    const adapter = meshAdapter('istio', 'sidecar');
    for (const object of await adapter.installManifests()) await admin.apply(object);
    // The gate's Roles go into the topology's namespaces, which the GitOps engine made.
    for (const name of ['frontend', 'catalog', 'accounts', 'checkout', 'payments', 'data', 'ingress', 'legacy']) await admin.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    for (let i = 0; i < 200 && !(await admin.list('v1', 'Pod', { namespace: 'istio-system' })).every(isPodReady); i++) await new Promise((r) => setTimeout(r, 25));
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-gameday-cronjob-'));
    const work = join(dir, 'repo');
    await cp(SHOP, work, { recursive: true });
    await writeFile(join(work, 'gameday.yaml'), stringify(GAMEDAY));
    const manifests = join(dir, 'meshdrill.yaml');
    expect(await runCli(['cronjob', '.', '--image', 'registry.example/meshdrill:1', '--git-url', 'https://git.example/mesh.git', '--prometheus', sim.url, '--gameday', 'staging-faults', '--out', manifests], captureIO(work))).toBe(0);
    const kubectl = await kubectlFor(sim.kubeconfig);
    await kubectl(['create', 'namespace', 'meshdrill']);
    const applied = await kubectl(['apply', '--validate=strict', '-f', manifests]);
    const mount = join(dir, 'serviceaccount');
    await mkdir(mount);
    await writeFile(join(mount, 'token'), (await kubectl(['create', 'token', 'meshdrill-gameday', '-n', 'meshdrill'])).stdout.trim());
    await writeFile(join(mount, 'ca.crt'), sim.caPem!);
    const objects = parseAllDocuments(await readFile(manifests, 'utf8')).map((d) => d.toJS() as KubeObject);
    const config = objects.find((o) => o.kind === 'ConfigMap')!['data'] as Record<string, string>;
    const cronJob = objects.find((o) => o.kind === 'CronJob' && o.metadata.name.startsWith('meshdrill-gameday'))!;
    const args = ((cronJob['spec'] as { jobTemplate: { spec: { template: { spec: { containers: Array<{ args: string[] }> } } } } }).jobTemplate.spec.template.spec.containers[0]!.args).map((a) => a.replace(/\$\((\w+)\)/g, (_m, name: string) => config[name] ?? '').replace('/work/repo', work).replace('/work/runs', join(dir, 'runs')));
    const policiesBefore = (await admin.list('networking.k8s.io/v1', 'NetworkPolicy', { namespace: 'frontend' })).length;
    const from = sim.auth.audit().length;

    const io = captureIO(dir, { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: new URL(sim.url).port, MESHDRILL_SERVICE_ACCOUNT_DIR: mount, MESHDRILL_PROMETHEUS_CA_FILE: join(mount, 'ca.crt') });
    const code = await runCli([...args, '-o', 'json'], io);

    expect(applied.stderr).toBe('');
    expect(io.err.join('')).not.toContain('Forbidden');
    const record = JSON.parse(io.out.join('')) as { faults: Array<{ leftovers: string[] }> };
    expect(record.faults).toHaveLength(3);
    expect(record.faults.flatMap((f) => f.leftovers)).toEqual([]);
    expect(code).toBe(0);
    expect((await admin.list('networking.k8s.io/v1', 'NetworkPolicy', { namespace: 'frontend' })).length).toBe(policiesBefore);
    const asked = sim.auth.audit().slice(from);
    expect(asked.filter((e) => !e.allowed).map((e) => `${e.verb} ${e.resource} ${e.namespace}/${e.name}`)).toEqual([]);
    const unused: string[] = [];
    for (const role of objects.filter((o) => (o.kind === 'Role' || o.kind === 'ClusterRole') && o.metadata.name === 'meshdrill-gameday')) {
      for (const rule of role['rules'] as Array<{ apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }>) {
        for (const verb of rule.verbs) {
          for (const resource of rule.resources) {
            const used = asked.some((e) => e.verb === verb && e.resource === resource && rule.apiGroups.includes(e.apiGroup) && (role.kind === 'ClusterRole' || e.namespace === role.metadata.namespace));
            if (!used) unused.push(`${role.kind} ${role.metadata.namespace ?? ''}: ${verb} ${resource}`);
          }
        }
      }
    }
    // The lease is renewed (patched) every 20 s: this run is shorter, which the lease tests cover.
    expect(unused).toEqual(['Role kube-system: patch leases']);
  });
});
