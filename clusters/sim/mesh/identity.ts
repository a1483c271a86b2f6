import { parse } from 'yaml';
import type { KubeObject } from '../api/types.js';

/** The mesh's trust domain and the aliases it also accepts (Istio meshConfig). */
export interface TrustDomain {
  domain: string;
  aliases: string[];
}

export const DEFAULT_TRUST_DOMAIN: TrustDomain = { domain: 'cluster.local', aliases: [] };

/**
 * Istio's trust domain from the mesh config (ConfigMap istio-system/istio, key `mesh`):
 * `trustDomain` (default cluster.local) and `trustDomainAliases` (istio.io reference/config/
 * istio.mesh.v1alpha1). Unreadable YAML counts as the default, as istiod keeps its defaults.
 */
export function istioTrustDomain(meshConfig: KubeObject | undefined): TrustDomain {
  const text = (meshConfig?.['data'] as Record<string, string> | undefined)?.['mesh'];
  if (!text) return DEFAULT_TRUST_DOMAIN;
  try {
    const mesh = parse(text) as { trustDomain?: unknown; trustDomainAliases?: unknown } | null;
    const domain = typeof mesh?.trustDomain === 'string' && mesh.trustDomain ? mesh.trustDomain : 'cluster.local';
    const aliases = Array.isArray(mesh?.trustDomainAliases) ? mesh.trustDomainAliases.filter((a): a is string => typeof a === 'string') : [];
    return { domain, aliases };
  } catch {
    return DEFAULT_TRUST_DOMAIN;
  }
}

/** An Istio workload's principal as AuthorizationPolicy reads it: `<trust domain>/ns/<ns>/sa/<account>` (the SPIFFE id without `spiffe://`). */
export function istioPrincipal(trust: TrustDomain, namespace: string, serviceAccount: string): string {
  return `${trust.domain}/ns/${namespace}/sa/${serviceAccount}`;
}

/** Istio's glob for principals and namespaces: `*`, a `*` prefix, a `*` suffix, or exact (authorization-policy reference, "Rule"). */
export function istioGlob(pattern: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (pattern === '*') return true;
  if (pattern.startsWith('*')) return value.endsWith(pattern.slice(1));
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1));
  return pattern === value;
}

/**
 * Whether a policy's principal matches a peer's. Sidecars (istiod's RBAC builder): a principal whose
 * trust domain is the mesh's, one of its aliases, or the literal `cluster.local` — "a pointer to
 * the local trust domain and its aliases" — is expanded to all of them (istio.io tasks/security/
 * authorization/authz-td-migration, "Best practices"; istio/istio#18011). ztunnel does not expand:
 * in ambient only the real trust domain matches (istio/ztunnel#1260).
 */
export function principalMatches(pattern: string, peer: string | undefined, trust: TrustDomain, expandAliases: boolean): boolean {
  if (peer === undefined) return false;
  if (istioGlob(pattern, peer)) return true;
  if (!expandAliases) return false;
  const slash = pattern.indexOf('/');
  if (slash <= 0) return false;
  const domain = pattern.slice(0, slash);
  const local = [trust.domain, ...trust.aliases, 'cluster.local'];
  if (!local.includes(domain)) return false;
  const rest = pattern.slice(slash);
  return local.some((d) => istioGlob(`${d}${rest}`, peer));
}

/** A Linkerd workload's identity: `<account>.<ns>.serviceaccount.identity.linkerd.<trust domain>` (linkerd.io reference/architecture, identity). */
export function linkerdIdentity(namespace: string, serviceAccount: string, trustDomain = 'cluster.local'): string {
  return `${serviceAccount}.${namespace}.serviceaccount.identity.linkerd.${trustDomain}`;
}
