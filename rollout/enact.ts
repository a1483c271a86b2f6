import type { KubeClient, KubeObject } from '../clusters/index.js';
import type { MeshAdapter } from '../meshes/index.js';
import { stageDiff, type StagePlan } from './stage.js';

export interface EnactedChange {
  action: 'mesh' | 'unmesh' | 'apply' | 'delete';
  target: string;
}

const id = (o: KubeObject) => `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;

/**
 * Moves a cluster from one stage to another through the mesh adapter: namespaces meshed or
 * unmeshed (workloads restart where the data plane needs it), policy objects applied, and those
 * the new stage no longer wants deleted. The same calls on every provider; the GitOps engine does
 * the equivalent from the rendered manifests.
 */
export async function enactStage(kube: KubeClient, adapter: MeshAdapter, from: StagePlan, to: StagePlan, now: Date, options: { labels?: Record<string, string> } = {}): Promise<EnactedChange[]> {
  const changes: EnactedChange[] = [];
  // Loosen before tightening: when moving towards STRICT the namespaces are meshed first; when
  // moving away from it the policies go first, so no step rejects callers the next step admits.
  const tightening = to.stage > from.stage;
  const policies = async () => {
    const wanted = new Set(to.policies.map(id));
    for (const object of [...to.removedPolicies, ...from.policies.filter((p) => !wanted.has(id(p)))]) {
      if (await kube.delete(object.apiVersion, object.kind, object.metadata.namespace, object.metadata.name)) changes.push({ action: 'delete', target: id(object) });
    }
    const had = new Map(from.policies.map((p) => [id(p), JSON.stringify(p)]));
    for (const object of to.policies) {
      // Already there from the earlier stage, unchanged: nothing to write.
      if (had.get(id(object)) === JSON.stringify(object)) continue;
      // A run labels what it creates, so its undo deletes only what it made.
      await kube.apply(options.labels ? { ...object, metadata: { ...object.metadata, labels: { ...(object.metadata.labels ?? {}), ...options.labels } } } : object);
      changes.push({ action: 'apply', target: id(object) });
    }
  };
  const namespaces = async () => {
    for (const d of stageDiff(from, to)) {
      if (d.from.meshed === d.to.meshed) continue;
      if (d.to.meshed) await adapter.meshNamespace(kube, d.namespace, { now });
      else await adapter.unmeshNamespace(kube, d.namespace, { now });
      changes.push({ action: d.to.meshed ? 'mesh' : 'unmesh', target: `Namespace/${d.namespace}` });
    }
  };
  if (tightening) {
    await namespaces();
    await policies();
  } else {
    await policies();
    await namespaces();
  }
  return changes;
}
