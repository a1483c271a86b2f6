import type { KubeObject } from '../../clusters/index.js';
import { linkerdProblems } from './linkerd-schema.js';

/** A model class from kubernetes-models or @kubernetes-models/istio: constructed from data, it validates. */
type Model = new (data: unknown) => { validate(): void };

const ISTIO_GROUPS = new Set(['security.istio.io', 'networking.istio.io', 'telemetry.istio.io', 'extensions.istio.io']);

/**
 * Validates a manifest against the schema of its kind: Kubernetes types from kubernetes-models,
 * Istio's from @kubernetes-models/istio, Linkerd's policy kinds from linkerd-schema.ts. Returns
 * the problems, or `unchecked` when meshdrill has no schema for the kind.
 */
export async function validateManifest(object: KubeObject): Promise<{ ok: true } | { ok: false; error: string } | { unchecked: string }> {
  const [group, version] = object.apiVersion.includes('/') ? (object.apiVersion.split('/') as [string, string]) : ['', object.apiVersion];
  if (group === 'policy.linkerd.io') {
    const problems = linkerdProblems(object.kind, (object as { spec?: unknown }).spec);
    if (problems === undefined) return { unchecked: `${object.apiVersion} ${object.kind}: no schema for this Linkerd kind` };
    return problems.length === 0 ? { ok: true } : { ok: false, error: `${object.kind}/${object.metadata.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata.name}: ${problems.join('; ')}` };
  }
  const modulePath = ISTIO_GROUPS.has(group) ? `@kubernetes-models/istio/${group}/${version}/${object.kind}` : group.endsWith('linkerd.io') ? undefined : `kubernetes-models/${group ? `${group}/` : ''}${version}/${object.kind}`;
  if (!modulePath) return { unchecked: `${object.apiVersion} ${object.kind}: no published schema model` };
  let model: Model;
  try {
    model = ((await import(modulePath)) as Record<string, Model>)[object.kind]!;
  } catch {
    return { unchecked: `${object.apiVersion} ${object.kind}: no model at ${modulePath}` };
  }
  try {
    new model(object).validate();
    return { ok: true };
  } catch (error) {
    return { ok: false, error: `${object.kind}/${object.metadata.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata.name}: ${(error as Error).message}` };
  }
}
