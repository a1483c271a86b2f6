import type { KubeClient, KubeObject } from '../clusters/index.js';
import type { MeshAdapter } from '../meshes/index.js';
import { stageDrift, type StagePlan } from '../rollout/index.js';

const LOOSE = new Set(['PERMISSIVE', 'DISABLE']);

function peerAuthenticationModes(pa: KubeObject): string[] {
  const spec = (pa['spec'] ?? {}) as { mtls?: { mode?: string }; portLevelMtls?: Record<string, { mode?: string }> };
  return [spec.mtls?.mode, ...Object.values(spec.portLevelMtls ?? {}).map((p) => p.mode)].filter((m): m is string => m !== undefined);
}

/**
 * What is looser than the live stage wants, left in the cluster: the stage's own policy objects
 * missing or changed (stageDrift), and on Istio any PeerAuthentication that relaxes a namespace the
 * stage makes STRICT (namespace, workload or port level, or the root namespace's mesh-wide one) or
 * a DestinationRule that turns TLS off towards it. Empty when mTLS is as planned.
 */
export async function relaxationsLeft(kube: KubeClient, adapter: MeshAdapter, stage: StagePlan | undefined): Promise<string[]> {
  if (!stage) return [];
  const left = (await stageDrift(kube, adapter, stage)).filter((d) => !d.startsWith('namespace '));
  if (adapter.name !== 'istio') return left;
  const strict = new Set(stage.namespaces.filter((n) => n.meshed && n.mtls === 'STRICT').map((n) => n.namespace));
  if (strict.size === 0) return left;
  const root = adapter.controlPlane.namespace;
  for (const pa of await kube.list('security.istio.io/v1', 'PeerAuthentication')) {
    const ns = pa.metadata.namespace ?? '';
    const loose = peerAuthenticationModes(pa).filter((m) => LOOSE.has(m));
    if (loose.length > 0 && (strict.has(ns) || ns === root)) left.push(`PeerAuthentication ${ns}/${pa.metadata.name} sets ${loose.join(', ')} where stage ${stage.stage} wants STRICT`);
  }
  for (const dr of await kube.list('networking.istio.io/v1', 'DestinationRule')) {
    const spec = (dr['spec'] ?? {}) as { host?: string; trafficPolicy?: { tls?: { mode?: string } } };
    const host = spec.host ?? '';
    const towards = [...strict].find((ns) => host.endsWith(`.${ns}.svc.cluster.local`) || host.endsWith(`.${ns}`) || (!host.includes('.') && dr.metadata.namespace === ns));
    if (towards && spec.trafficPolicy?.tls?.mode === 'DISABLE') left.push(`DestinationRule ${dr.metadata.namespace}/${dr.metadata.name} sends plaintext to ${host} in ${towards}, which stage ${stage.stage} makes STRICT`);
  }
  return left;
}
