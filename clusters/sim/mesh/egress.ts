import { parse } from 'yaml';
import type { KubeObject } from '../api/types.js';

// What an Istio sidecar knows of the mesh's services, and what it does with a call to one it
// does not know. The Sidecar resource that applies to a workload is the one in its namespace
// whose workloadSelector selects it, else the namespace's one without a selector, else the root
// namespace's one without a selector (istio.io reference/config/networking/sidecar: "Sidecar
// resources with a workloadSelector take precedence over a Sidecar without any"; "applies by
// default to all namespaces without a Sidecar configuration"). Its egress `hosts` are
// "namespace/dnsName": "." the Sidecar's namespace, "*" any, "~" none; dnsName "*", "*.suffix" or
// an FQDN. A host outside them gets no cluster: with outboundTrafficPolicy REGISTRY_ONLY the
// request goes to the BlackHoleCluster (502), with ALLOW_ANY (the default) to the
// PassthroughCluster, as plain TCP to the original destination, past every HTTP route and without
// mTLS (istio.io tasks/traffic-management/egress/egress-control).

type Obj = Record<string, unknown>;

export type EgressMode = 'ALLOW_ANY' | 'REGISTRY_ONLY';
export type EgressScope = 'known' | 'blackhole' | 'passthrough';

/** meshConfig.outboundTrafficPolicy.mode from the istio ConfigMap's `mesh`; ALLOW_ANY when unset. */
export function meshOutboundMode(meshConfig: KubeObject | undefined): EgressMode {
  const text = (meshConfig?.['data'] as Record<string, string> | undefined)?.['mesh'];
  if (!text) return 'ALLOW_ANY';
  try {
    const mode = (parse(text) as { outboundTrafficPolicy?: { mode?: unknown } } | null)?.outboundTrafficPolicy?.mode;
    return mode === 'REGISTRY_ONLY' ? 'REGISTRY_ONLY' : 'ALLOW_ANY';
  } catch {
    return 'ALLOW_ANY';
  }
}

/** The Sidecar resource that configures a workload, if any. */
export function sidecarFor(sidecars: KubeObject[], namespace: string, labels: Record<string, string>, rootNamespace = 'istio-system'): KubeObject | undefined {
  const selectorOf = (s: KubeObject) => ((s.spec as Obj | undefined)?.['workloadSelector'] as { labels?: Record<string, string> } | undefined)?.labels;
  const own = sidecars.filter((s) => s.metadata.namespace === namespace);
  const selected = own.find((s) => {
    const sel = selectorOf(s);
    return sel !== undefined && Object.keys(sel).length > 0 && Object.entries(sel).every(([k, v]) => labels[k] === v);
  });
  return selected ?? own.find((s) => !selectorOf(s)) ?? sidecars.find((s) => s.metadata.namespace === rootNamespace && !selectorOf(s));
}

/** Whether a workload's sidecar has the service `name.ns` in its configuration, and if not, where its calls go. */
export function egressScope(sidecar: KubeObject | undefined, meshMode: EgressMode, service: { name: string; namespace: string }): EgressScope {
  if (!sidecar) return 'known';
  const spec = (sidecar.spec as Obj | undefined) ?? {};
  const mode = ((spec['outboundTrafficPolicy'] as { mode?: string } | undefined)?.mode as EgressMode | undefined) ?? meshMode;
  const listeners = (spec['egress'] as Array<{ hosts?: string[] }> | undefined) ?? [];
  // A Sidecar without egress listeners leaves the default: every service the mesh exports.
  if (listeners.length === 0) return 'known';
  const fqdn = `${service.name}.${service.namespace}.svc.cluster.local`;
  const known = listeners.some((l) =>
    (l.hosts ?? []).some((host) => {
      const [ns, dns] = host.includes('/') ? (host.split('/') as [string, string]) : ['*', host];
      const nsOk = ns === '*' || (ns === '.' ? sidecar.metadata.namespace === service.namespace : ns !== '~' && ns === service.namespace);
      const dnsOk = dns === '*' || (dns.startsWith('*.') ? fqdn.endsWith(dns.slice(1)) : dns === fqdn);
      return nsOk && dnsOk;
    }),
  );
  if (known) return 'known';
  return mode === 'REGISTRY_ONLY' ? 'blackhole' : 'passthrough';
}
