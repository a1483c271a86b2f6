import { describe, expect, it } from 'vitest';
import { planFault } from '../chaos/faults.js';
import { FaultSpec } from '../chaos/schema.js';
import { istioRemoteSecret } from '../clusters/kind/connect.js';
import type { KubeClient, KubeObject } from '../clusters/kube/types.js';
import { topologyWorkloads } from '../clusters/workloads.js';
import { documentsOfKind, loadConfig } from '../harness/config/index.js';
import { k6JobManifests } from '../load/k6/job.js';
import { planLoad } from '../load/plan.js';
import { meshAdapter } from '../meshes/index.js';
import { prometheusManifests } from '../meshes/prometheus.js';
import { planStage } from '../rollout/stage.js';
import { validateManifest } from '../suites/check/schema.js';
import { inClusterManifests } from '../harness/in-cluster/manifests.js';

const repo = await loadConfig('examples/shop');
const topology = documentsOfKind(repo, 'Topology')[0]!.data;
const plan = documentsOfKind(repo, 'RolloutPlan')[0]!.data;

/** A cluster that holds nothing: fault plans only read from it. */
const empty: KubeClient = { get: async () => undefined, list: async () => [], apply: async (o) => o, create: async (o) => o, mergePatch: async () => ({ apiVersion: 'v1', kind: 'x', metadata: { name: 'x' } }), logs: async () => '', delete: async () => false };

async function everyManifest(): Promise<Array<{ source: string; object: KubeObject }>> {
  const out: Array<{ source: string; object: KubeObject }> = [];
  const add = (source: string, objects: KubeObject[]) => out.push(...objects.map((object) => ({ source, object })));
  add('topology workloads', topologyWorkloads(topology, { runId: 'r' }));
  for (const [mesh, mode] of [['istio', 'sidecar'], ['istio', 'ambient'], ['linkerd', 'sidecar']] as const) {
    const adapter = meshAdapter(mesh, mode);
    add(`${mesh} ${mode} install (embedded)`, await adapter.installManifests({ certLifetimeMs: 3_600_000 }));
    for (const m of ['STRICT', 'PERMISSIVE'] as const) {
      const { apply, remove } = adapter.mtlsObjects('payments', m);
      add(`${mesh} mTLS ${m}`, [...apply, ...remove]);
      add(`${mesh} mesh-wide mTLS ${m}`, adapter.mtlsObjects(undefined, m).apply);
      add(`${mesh} workload mTLS ${m}`, adapter.mtlsObjects('payments', m, { app: 'api' }).apply);
    }
    for (let stage = 0; stage <= plan.spec.stages.length; stage++) add(`${mesh} stage ${stage}`, planStage({ ...plan, spec: { ...plan.spec, mesh: { name: mesh, mode } } }, topology, stage, adapter).policies);
    const ctx = { adapter, kube: empty, runId: 'r', now: new Date(), nodes: ['sim-worker', 'sim-worker2'], random: () => 0.5 };
    for (const spec of [
      { type: 'ca-loss', variant: 'root-replaced' },
      { type: 'control-plane-partition', namespaces: ['frontend'] },
      { type: 'cert-expiry', lifetime: '30m' },
      ...(mesh === 'istio' ? [{ type: 'http-fault', destination: 'payments/api', delay: { fixed: '2s', percentage: '10%' }, abort: { httpStatus: 503, percentage: '5%' } }] : []),
    ]) {
      const faultPlan = await planFault(FaultSpec.parse(spec), ctx);
      add(`${mesh} fault ${spec.type}`, faultPlan.changes.flatMap((c) => (c.type === 'apply' ? [c.object] : [])));
    }
  }
  add('prometheus for real clusters', prometheusManifests());
  for (const [mesh, mode] of [['istio', 'sidecar'], ['istio', 'ambient'], ['linkerd', 'sidecar']] as const) {
    const gameDay = { name: 'weekly', schedule: '0 6 * * 1', steps: [{ provision: {} }, { fault: { type: 'control-plane-partition', namespaces: ['frontend'] } }, { fault: { type: 'ca-loss', variant: 'secret-deleted' } }, { fault: { type: 'proxy-crash', namespaces: ['payments'] } }, { fault: { type: 'cert-expiry', lifetime: '30m' } }] };
    add(`in-cluster CronJobs and RBAC (${mesh} ${mode})`, inClusterManifests({ plan: { ...plan, spec: { ...plan.spec, mesh: { name: mesh, mode } } }, topology, adapter: meshAdapter(mesh, mode) }, { namespace: 'meshdrill', image: 'registry.example/meshdrill:1', gitUrl: 'https://git.example/mesh.git', gitBranch: 'main', repoDir: '.', prometheusUrl: 'http://prometheus:9090', gateSchedule: '*/30 * * * *', gameDay }));
  }
  const load = planLoad('shop-baseline', { duration: '5m' }, topology);
  for (const meshed of [true, false]) add(`k6 job (meshed ${meshed})`, k6JobManifests(load, { namespace: 'meshdrill-load', meshed, runId: 'r' }));
  add('istio remote secret (multicluster)', [istioRemoteSecret('meshdrill-mesh-c2', 'apiVersion: v1\nkind: Config\nclusters:\n- cluster: {server: "https://172.18.0.3:6443"}\n  name: c2\n')]);
  add('k6 traffic job (bounded)', k6JobManifests(load, { namespace: 'meshdrill-load', meshed: false, runId: 'r', activeDeadlineSeconds: 21_600 }));
  return out;
}

describe('every manifest meshdrill generates, against the schemas of their kinds (kubernetes-models, @kubernetes-models/istio, Linkerd\'s policy kinds)', () => {
  it('validates', async () => {
    const manifests = await everyManifest();
    const problems: string[] = [];
    const unchecked = new Set<string>();
    for (const { source, object } of manifests) {
      const result = await validateManifest(object);
      if ('unchecked' in result) unchecked.add(result.unchecked);
      else if (!result.ok) problems.push(`${source}: ${result.error}`);
    }

    expect(problems).toEqual([]);
    expect(manifests.length).toBeGreaterThan(150);
    // Every kind meshdrill generates has a schema, Linkerd's policy kinds included.
    expect([...unchecked]).toEqual([]);
  });

  it('catches a broken manifest, Istio\'s or Linkerd\'s', async () => {
    const istio = await validateManifest({ apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default', namespace: 'x' }, spec: { mtls: { mode: 'STRICTLY' } } });
    const linkerd = await validateManifest({ apiVersion: 'policy.linkerd.io/v1beta3', kind: 'Server', metadata: { name: 'api', namespace: 'x' }, spec: { podSelector: { matchLabels: { app: 'api' } }, port: 8080, proxyProtocol: 'HTTP1', acessPolicy: 'deny' } });
    const linkerdOk = await validateManifest({ apiVersion: 'policy.linkerd.io/v1alpha1', kind: 'MeshTLSAuthentication', metadata: { name: 'all', namespace: 'x' }, spec: { identities: ['*'] } });

    expect(istio).toEqual({ ok: false, error: 'PeerAuthentication/x/default: data/spec/mtls/mode must be equal to one of the allowed values' });
    expect(linkerd).toMatchObject({ ok: false, error: expect.stringMatching(/^Server\/x\/api: spec\.proxyProtocol: .*; spec: Unrecognized key: "acessPolicy"$/) });
    expect(linkerdOk).toEqual({ ok: true });
  });
});
