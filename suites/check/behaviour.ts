import { inProcessKubeClient, startSimCluster, attachMeshTwin, TrafficModel, topologyWorkloads } from '../../clusters/index.js';
import { meshAdapter } from '../../meshes/index.js';
import type { Topology } from '../../model/index.js';
import type { MeshSelection } from '../../rollout/index.js';
import { ClientViewSource, EmbeddedSource, evaluate, measureWithCallersFallback, resolveGate, type Slo } from '../../slo/index.js';
import type { EdgeChange } from './edge-change.js';
import type { Manifest } from './manifests.js';
import { lentWorkloads } from './rules-policy.js';

export type { EdgeChange };

export interface EdgeBehaviour {
  from: string;
  to: string;
  /** Success as the caller saw it, percent; NaN without traffic. */
  success: number;
  requests: number;
  /** Whether the destination saw mTLS; undefined when it could not tell (no proxy reported the calls). */
  mtls?: boolean;
}

export interface SloResult {
  name: string;
  objective: string;
  verdict: string;
  value: number;
  reason: string;
}

export interface Behaviour {
  edges: EdgeBehaviour[];
  slos: SloResult[];
  /** Manifests the embedded cluster refused (kept out of the run, reported). */
  ignored: string[];
  /** What the traffic met in policies that the twin reads but does not model. */
  notModelled: string[];
  wallMs: number;
}

/**
 * What a config does, on the embedded cluster: the mesh installed, the repo's manifests applied
 * before the workloads (so injection happens as it would), the topology's traffic run for a
 * virtual window, and every call-graph edge measured from its caller's view.
 */
export async function behaviourOf(input: { manifests: Manifest[]; topology: Topology; mesh: MeshSelection; slos?: Slo[]; windowMs?: number; seed?: number }): Promise<Behaviour> {
  const started = Date.now();
  const cluster = await startSimCluster({ time: 'virtual', seed: input.seed ?? 1 });
  try {
    const twin = attachMeshTwin(cluster);
    const kube = inProcessKubeClient(cluster);
    const adapter = meshAdapter(input.mesh.name, input.mesh.mode, input.mesh.revision);
    for (const object of await adapter.installManifests({ now: new Date(cluster.clock.now()) })) await kube.apply(object);
    await cluster.advance(5_000);
    const ignored: string[] = [];
    // Namespaces first, then everything else: policies need their namespace.
    const ordered = [...input.manifests].sort((a, b) => Number(b.object.kind === 'Namespace') - Number(a.object.kind === 'Namespace'));
    for (const m of ordered) {
      try {
        await kube.apply(m.object);
      } catch (error) {
        ignored.push(`${m.file}:${m.line} ${m.object.kind}/${m.object.metadata.name}: ${(error as Error).message.split('\n')[0]}`);
      }
    }
    // The repo's own Deployments lend the topology's pods their labels and ServiceAccounts, so
    // selectors and principals in the repo's policies match what they will match on the cluster.
    for (const object of topologyWorkloads(input.topology, { lent: lentWorkloads(input.manifests) })) await kube.apply(object);
    await cluster.advance(60_000);
    const traffic = new TrafficModel(twin, input.topology, { tickMs: 5_000 });
    traffic.start();
    await cluster.advance(30_000);
    const from = cluster.clock.now();
    await cluster.advance(input.windowMs ?? 300_000);
    const window = { from, to: cluster.clock.now() };
    traffic.stop();
    const notModelled = traffic.notModelledSeen();
    const client = new ClientViewSource(twin.metrics);
    const mesh = new EmbeddedSource(twin.metrics, adapter.name, adapter.mode);
    const edges: EdgeBehaviour[] = [];
    for (const ns of input.topology.spec.namespaces) {
      for (const svc of ns.services) {
        for (const call of svc.calls) {
          const scope = { edge: { from: `${ns.name}/${svc.name}`, to: call.to } };
          const seen = await client.measure('success-rate', scope, window);
          const plaintext = await mesh.measure('plaintext-share', scope, window);
          edges.push({ from: scope.edge.from, to: call.to, success: seen.value, requests: seen.samples, ...(Number.isFinite(plaintext.value) && plaintext.samples > 0 ? { mtls: plaintext.value === 0 } : {}) });
        }
        // Calls out of the mesh, as the caller saw them (egress policy decides them).
        for (const ext of svc.external) {
          const to = `external/${ext.host}`;
          const seen = await client.measure('success-rate', { edge: { from: `${ns.name}/${svc.name}`, to } }, window);
          edges.push({ from: `${ns.name}/${svc.name}`, to, success: seen.value, requests: seen.samples });
        }
      }
    }
    const slos: SloResult[] = [];
    for (const slo of input.slos ?? []) {
      const gate = resolveGate({ slo: slo.metadata.name, key: false, failureLimit: 0, inconclusiveLimit: 0, consecutiveSuccessLimit: 1 }, input.slos ?? []);
      const e = evaluate(gate.sli, gate.scope, gate.objective, await measureWithCallersFallback(gate, { mesh, client }, window), { minSamples: gate.minSamples });
      slos.push({ name: slo.metadata.name, objective: gate.objective, verdict: e.verdict, value: e.value, reason: e.reason });
    }
    return { edges, slos, ignored, notModelled, wallMs: Date.now() - started };
  } finally {
    await cluster.close();
  }
}

const describe = (e: EdgeBehaviour | undefined) => (!e || e.requests === 0 || !Number.isFinite(e.success) ? 'no traffic' : `${e.success >= 99 ? 'ok' : `failing (${Number(e.success.toFixed(1))}% success)`}${e.mtls === undefined ? '' : e.mtls ? ', mTLS' : ', plaintext'}`);

/** Every edge whose outcome changed between base and head; broken when it worked before and not after. */
export function diffBehaviour(base: Behaviour, head: Behaviour): EdgeChange[] {
  const key = (e: { from: string; to: string }) => `${e.from} → ${e.to}`;
  const before = new Map(base.edges.map((e) => [key(e), e]));
  const changes: EdgeChange[] = [];
  for (const e of head.edges) {
    const b = before.get(key(e));
    const was = describe(b);
    const now = describe(e);
    if (was !== now) changes.push({ from: e.from, to: e.to, before: was, after: now, broken: was.startsWith('ok') && !now.startsWith('ok') });
  }
  return changes;
}

export interface SloChange {
  name: string;
  objective: string;
  before: string;
  after: string;
  /** Met before, missed after. */
  broken: boolean;
}

/** Every SLO whose verdict moved between base and head. */
export function diffSlos(base: Behaviour, head: Behaviour): SloChange[] {
  const before = new Map(base.slos.map((s) => [s.name, s]));
  return head.slos
    .filter((s) => before.get(s.name)?.verdict !== s.verdict)
    .map((s) => ({ name: s.name, objective: s.objective, before: before.get(s.name) ? `${before.get(s.name)!.verdict} (${before.get(s.name)!.reason})` : 'absent', after: `${s.verdict} (${s.reason})`, broken: before.get(s.name)?.verdict === 'Successful' && s.verdict === 'Failed' }));
}
