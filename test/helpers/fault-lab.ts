import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterIdentity } from '../../clusters/index.js';
import { ChangeExecutor, type NodeControl } from '../../chaos/changes.js';
import type { FaultContext } from '../../chaos/faults.js';
import { Journal } from '../../chaos/journal.js';
import { FaultSpec } from '../../chaos/schema.js';
import { Lab } from './twin-lab.js';

// What the fault tests share: a meshed lab, a journal and an executor bound to it, and a snapshot
// of everything a person or meshdrill wrote, to compare byte for byte after a revert.

export const MIN = 60_000;

/** Labs and journals a test opened; the test file closes them after each test (closeAll). */
const labs: Lab[] = [];
const journals: Journal[] = [];

export async function closeAll(): Promise<void> {
  for (const journal of journals.splice(0)) await journal.close();
  for (const lab of labs.splice(0)) await lab.close();
}

/** A journal reopened as a new process would (after a crash), closed after the test. */
export async function reopenJournal(dir: string, runId: string): Promise<Journal> {
  const journal = await Journal.open(dir, runId);
  journals.push(journal);
  return journal;
}

export async function meshedLab(mesh: 'istio' | 'linkerd', options: { certLifetimeMs?: number; tickMs?: number; repeatUnchangedTicks?: boolean; mode?: 'sidecar' | 'ambient' } = {}): Promise<Lab> {
  const lab = await Lab.start(mesh, { tickMs: MIN, ...options });
  labs.push(lab);
  await lab.mesh('server');
  await lab.mesh('client');
  return lab;
}

export function nodeControl(lab: Lab): NodeControl {
  return {
    nodes: () => ['sim-worker', 'sim-worker2', 'sim-worker3'],
    setReady: async (node, ready) => {
      if (ready) lab.lab.cluster.controllers.startNode(node);
      else lab.lab.cluster.controllers.stopNode(node);
      lab.lab.cluster.settle();
    },
  };
}

export async function tools(lab: Lab, runId = 'run-1') {
  const journal = await Journal.open(await mkdtemp(join(tmpdir(), 'meshdrill-journal-')), runId, () => lab.now);
  journals.push(journal);
  await journal.bind({ runId, cluster: await clusterIdentity(lab.lab.kube, lab.lab.cluster.kubeconfig), host: 'test', pid: 0, startedAt: '', what: 'fault test' });
  const executor = new ChangeExecutor(lab.lab.kube, nodeControl(lab), runId, () => lab.now);
  let seed = 1;
  const ctx: FaultContext = { adapter: lab.lab.adapter, kube: lab.lab.kube, runId, now: new Date(lab.now), nodes: nodeControl(lab).nodes(), random: () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646 };
  return { journal, executor, ctx, deps: { executor, journal, now: () => lab.now } };
}

/** Everything a person or meshdrill wrote to the cluster (pods: their labels), without what controllers keep changing. */
export function snapshot(lab: Lab): string {
  const kinds = ['namespaces', 'deployments', 'services', 'secrets', 'configmaps', 'networkpolicies', 'mutatingwebhookconfigurations', 'virtualservices', 'peerauthentications', 'destinationrules', 'httproutes'];
  const out: string[] = [];
  for (const type of lab.lab.cluster.api.types.all().filter((t) => kinds.includes(t.resource))) {
    for (const o of lab.lab.cluster.api.list(type)) {
      const { metadata, status: _status, ...rest } = o as typeof o & { status?: unknown };
      out.push(JSON.stringify(sorted({ kind: type.kind, name: `${metadata.namespace ?? ''}/${metadata.name}`, labels: metadata.labels, annotations: metadata.annotations, rest })));
    }
  }
  // A snapshot of nothing would make every comparison pass.
  if (out.length < 20) throw new Error(`snapshot found only ${out.length} objects`);
  return out.sort().join('\n');
}

/** Each pod's labels by name: what a fault that labels pods must give back. */
export function podLabels(lab: Lab): string {
  return lab.lab.twin.pods().map((p) => `${p.metadata.namespace}/${p.metadata.name} ${JSON.stringify(sorted(p.metadata.labels ?? {}))}`).sort().join('\n');
}

export const spec = (input: unknown) => FaultSpec.parse(input);

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, sorted(v)]));
  return value;
}
