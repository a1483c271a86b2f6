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
  return hostScope(sidecar, meshMode, { fqdn: `${service.name}.${service.namespace}.svc.cluster.local`, namespace: service.namespace }, true);
}

/**
 * The same for any host: `registered` says whether the mesh's registry has it at all (a Service,
 * or for an outside host a ServiceEntry); a host it does not have goes to the passthrough or the
 * BlackHoleCluster whatever the Sidecar says.
 */
export function hostScope(sidecar: KubeObject | undefined, meshMode: EgressMode, host: { fqdn: string; namespace: string }, registered: boolean): EgressScope {
  const spec = (sidecar?.spec as Obj | undefined) ?? {};
  const mode = ((spec['outboundTrafficPolicy'] as { mode?: string } | undefined)?.mode as EgressMode | undefined) ?? meshMode;
  if (!registered) return mode === 'REGISTRY_ONLY' ? 'blackhole' : 'passthrough';
  if (!sidecar) return 'known';
  const listeners = (spec['egress'] as Array<{ hosts?: string[] }> | undefined) ?? [];
  // A Sidecar without egress listeners leaves the default: every service the mesh exports.
  if (listeners.length === 0) return 'known';
  const fqdn = host.fqdn;
  const known = listeners.some((l) =>
    (l.hosts ?? []).some((entry) => {
      const [ns, dns] = entry.includes('/') ? (entry.split('/') as [string, string]) : ['*', entry];
      const nsOk = ns === '*' || (ns === '.' ? sidecar!.metadata.namespace === host.namespace : ns !== '~' && ns === host.namespace);
      const dnsOk = dns === '*' || (dns.startsWith('*.') ? fqdn.endsWith(dns.slice(1)) : dns === fqdn);
      return nsOk && dnsOk;
    }),
  );
  if (known) return 'known';
  return mode === 'REGISTRY_ONLY' ? 'blackhole' : 'passthrough';
}

/**
 * The ServiceEntry that makes an outside host known to a client in `namespace`: its hosts name it
 * (exactly or by a "*." wildcard), a port matches, and it is exported to the client (exportTo "*",
 * the default, "." for its own namespace, or the client's namespace) — istio.io reference/config/
 * networking/service-entry.
 */
export function serviceEntryFor(entries: KubeObject[], host: string, port: number, namespace: string): KubeObject | undefined {
  return entries.find((e) => {
    const spec = (e.spec ?? {}) as Obj;
    const hosts = ((spec['hosts'] as unknown[] | undefined) ?? []).filter((h): h is string => typeof h === 'string');
    const hostOk = hosts.some((h) => h === host || (h.startsWith('*.') && host.endsWith(h.slice(1))));
    const ports = ((spec['ports'] as Array<{ number?: number }> | undefined) ?? []);
    const portOk = ports.length === 0 || ports.some((p) => p.number === port);
    const exportTo = ((spec['exportTo'] as unknown[] | undefined) ?? ['*']).map(String);
    const exported = exportTo.includes('*') || (exportTo.includes('.') && e.metadata.namespace === namespace) || exportTo.includes(namespace);
    return hostOk && portOk && exported;
  });
}

/** Linkerd's global egress namespace: its EgressNetworks apply to clients in every namespace (linkerd.io reference/egress-network). */
export const LINKERD_EGRESS_NAMESPACE = 'linkerd-egress';

/**
 * Whether a Linkerd client may call an outside host: an EgressNetwork in its namespace (else the
 * global egress namespace) decides; trafficPolicy Deny refuses (HTTP 403) unless a route attached
 * to it names the host; Allow lets it through; without one, egress is open.
 */
export function linkerdEgressAllows(networks: KubeObject[], routes: KubeObject[], host: string, namespace: string): { allowed: boolean; by?: string } {
  const network = networks.find((n) => n.metadata.namespace === namespace) ?? networks.find((n) => n.metadata.namespace === LINKERD_EGRESS_NAMESPACE);
  if (!network) return { allowed: true };
  const policy = ((network.spec ?? {}) as Obj)['trafficPolicy'];
  if (policy !== 'Deny') return { allowed: true, by: `EgressNetwork ${network.metadata.namespace}/${network.metadata.name}` };
  const routed = routes.some((r) => {
    const spec = (r.spec ?? {}) as Obj;
    const parents = ((spec['parentRefs'] as Obj[] | undefined) ?? []);
    const hostnames = ((spec['hostnames'] as unknown[] | undefined) ?? []).map(String);
    return parents.some((p) => p['kind'] === 'EgressNetwork' && p['name'] === network.metadata.name && (p['namespace'] === undefined || p['namespace'] === network.metadata.namespace)) && (hostnames.length === 0 || hostnames.includes(host));
  });
  return { allowed: routed, by: `EgressNetwork ${network.metadata.namespace}/${network.metadata.name} (trafficPolicy Deny${routed ? ', routed' : ''})` };
}
