import type { KubeObject } from '../api/types.js';
import { ruleMatches } from './authz-linkerd.js';
import type { RequestAttributes } from './request.js';
import type { RouteDecision } from './routing.js';

type Obj = Record<string, unknown>;

/**
 * A Linkerd client proxy's outbound routing (linkerd.io features/httproute: "HTTPRoutes with a
 * Service as their parent resource configure policies for outbound proxies in pods which are
 * clients of that Service"): the routes whose parentRef is the called Service (and its port, when
 * named), their rules in order; the first rule that matches sends the request to its backendRefs,
 * split by weight (default 1; Gateway API traffic splitting), or to the Service itself when it has
 * none; a backend that does not exist answers 500, and when routes exist but no rule matches, 404
 * (Gateway API HTTPRoute: "If no matching rule is found, a 404 status code MUST be returned").
 * Undefined when no route is attached: the request goes where it was sent.
 */
export function linkerdOutboundRoute(routes: KubeObject[], called: { ref: string; namespace: string; name: string }, request: RequestAttributes, exists: (ref: string) => boolean): RouteDecision | undefined {
  const attached = routes.filter((r) => {
    const parents = (((r.spec as Obj | undefined)?.['parentRefs'] as Obj[] | undefined) ?? []);
    return parents.some((p) => p['kind'] === 'Service' && p['name'] === called.name && (p['namespace'] ?? r.metadata.namespace) === called.namespace && (p['port'] === undefined || p['port'] === request.port));
  });
  if (attached.length === 0) return undefined;
  // Older routes first, as Gateway API orders conflicting routes; rules in their order.
  const ordered = [...attached].sort((a, b) => String(a.metadata.creationTimestamp ?? '').localeCompare(String(b.metadata.creationTimestamp ?? '')) || a.metadata.name.localeCompare(b.metadata.name));
  for (const route of ordered) {
    const rules = (((route.spec as Obj | undefined)?.['rules'] as Obj[] | undefined) ?? [{}]);
    for (const [i, rule] of rules.entries()) {
      if (!ruleMatches(rule, request)) continue;
      const by = `HTTPRoute ${route.metadata.namespace}/${route.metadata.name} rule ${i}`;
      const backends = ((rule['backendRefs'] as Array<{ name?: string; namespace?: string; weight?: number }> | undefined) ?? []);
      if (backends.length === 0) return { kind: 'forward', destinations: [{ ref: called.ref, weight: 1, policy: {} }], request, by };
      const refs = backends.map((b) => ({ ref: `${b.namespace ?? route.metadata.namespace}/${b.name ?? ''}`, weight: backends.length === 1 ? 1 : Math.max(0, b.weight ?? 1) }));
      if (refs.some((r) => !exists(r.ref))) return { kind: 'respond', code: 500, flags: '-', by: `${by}: a backendRef names no Service` };
      const total = refs.reduce((n, r) => n + r.weight, 0);
      if (total === 0) return { kind: 'respond', code: 500, flags: '-', by: `${by}: every backend has weight 0` };
      return { kind: 'forward', destinations: refs.filter((r) => r.weight > 0).map((r) => ({ ref: r.ref, weight: r.weight / total, policy: {} })), request, by };
    }
  }
  return { kind: 'respond', code: 404, flags: '-', by: `no rule of the HTTPRoutes on Service ${called.ref} matches ${request.method} ${request.path}` };
}
