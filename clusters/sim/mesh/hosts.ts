/** The cluster's DNS suffix for Services. */
export const CLUSTER_DOMAIN = 'cluster.local';

/** A Service's cluster hostname. */
export function serviceFqdn(namespace: string, name: string): string {
  return `${name}.${namespace}.svc.${CLUSTER_DOMAIN}`;
}

/**
 * A host as Istio resolves it in a rule of `namespace`: a short name (no dot) is relative to the
 * rule's namespace (`reviews` in `default` → reviews.default.svc.cluster.local); anything with a
 * dot, and wildcards, stay as written (pilot/pkg/model ResolveShortnameToFQDN; the reference pages
 * of VirtualService.hosts and DestinationRule.host).
 */
export function resolveHost(host: string, namespace: string): string {
  if (host.startsWith('*') || host.includes('.')) return host.toLowerCase();
  return serviceFqdn(namespace, host.toLowerCase());
}

/** Whether a resolved rule host covers a hostname: exact, `*`, or a `*.` suffix wildcard. */
export function hostMatches(ruleHost: string, fqdn: string): boolean {
  if (ruleHost === '*') return true;
  if (ruleHost.startsWith('*.')) return fqdn.endsWith(ruleHost.slice(1));
  return ruleHost === fqdn;
}
