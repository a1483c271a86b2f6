import { matchesLabels, requirementsFromSelector } from '../api/selectors.js';
import type { KubeObject } from '../api/types.js';
import { istioGlob, principalMatches, type TrustDomain } from './identity.js';
import { cidrContains } from './ip.js';
import type { RequestAttributes } from './request.js';

type Obj = Record<string, unknown>;

/** The caller as the server's proxy sees it: identity only over mTLS (from the peer certificate). */
export interface AuthzPeer {
  mtls: boolean;
  /** From the peer certificate; absent for plaintext. */
  namespace?: string;
  principal?: string;
  /** The connection's source address. */
  ip: string;
}

/** The workload the policy protects. */
export interface AuthzTarget {
  namespace: string;
  labels: Record<string, string>;
  ip: string;
  /** Enforced by the destination ztunnel (ambient, no waypoint): L4 attributes only. */
  ztunnel: boolean;
  /** Ambient: the waypoint ("namespace/name") the traffic passes, and which of the two enforces now. */
  waypoint?: string;
  at?: 'waypoint' | 'workload';
}

export interface AuthzOutcome {
  allowed: boolean;
  /** The policy that decided ("namespace/name", its action), when one did. */
  decidedBy?: string;
  /** What the policies hold that the twin read but cannot judge (CUSTOM providers, JWT-only fields…). */
  notModelled: string[];
}

/**
 * Attributes ztunnel can enforce (istio.io ambient/usage/l4-policy, "Allowed policy attributes"):
 * everything else needs a waypoint.
 */
const L4_SOURCE = new Set(['principals', 'notPrincipals', 'namespaces', 'notNamespaces', 'ipBlocks', 'notIpBlocks', 'serviceAccounts', 'notServiceAccounts']);
const L4_OPERATION = new Set(['ports', 'notPorts']);
const L4_CONDITION = new Set(['source.ip', 'source.namespace', 'source.principal', 'destination.ip', 'destination.port']);

/**
 * Istio AuthorizationPolicy as a sidecar or ztunnel enforces it (istio.io reference/config/
 * security/authorization-policy): CUSTOM first (not modelled: the external authorizer decides),
 * then DENY — any matching rule denies — then ALLOW: once an ALLOW policy applies to the
 * workload, a request must match one of its rules (an ALLOW with no rules allows nothing).
 * AUDIT does not decide. A policy applies by namespace (the root namespace's to all) and
 * `selector`; `targetRef(s)` attach it to a waypoint or gateway instead.
 *
 * Enforced by ztunnel (ambient without a waypoint) a policy keeps its L4 attributes only and fails
 * safe: an ALLOW rule that needs L7 attributes is dropped (matching nothing), a DENY rule loses its
 * L7 conditions (matching more) (istio.io ambient/usage/l4-policy).
 */
export function istioAuthorize(policies: KubeObject[], target: AuthzTarget, peer: AuthzPeer, request: RequestAttributes, trust: TrustDomain, rootNamespace = 'istio-system'): AuthzOutcome {
  const notModelled: string[] = [];
  const applying = policies.filter((p) => applies(p, target, rootNamespace, notModelled));
  if (applying.length === 0) return { allowed: true, notModelled };
  const ctx: MatchContext = { peer, request, target, trust, notModelled };
  // TCP traffic (and ztunnel) has no HTTP attributes: the same fail-safe as ztunnel's — an ALLOW
  // rule with HTTP-only fields matches nothing, a DENY rule loses them and matches more
  // (istio.io tasks/security/authorization/authz-tcp; ambient/usage/l4-policy).
  const l4 = target.ztunnel || request.opaque === true;
  for (const p of applying.filter((p) => action(p) === 'CUSTOM')) {
    const provider = String(((p.spec as Obj)['provider'] as Obj | undefined)?.['name'] ?? 'unnamed');
    notModelled.push(`AuthorizationPolicy ${ref(p)}: action CUSTOM (provider ${provider}) — the external authorizer's answer is not modelled; the twin lets requests through it`);
  }
  for (const p of applying.filter((p) => action(p) === 'DENY')) {
    const index = rules(p).findIndex((r) => ruleMatches(r, ctx, l4 ? 'deny-l4' : 'full', p));
    if (index >= 0) return { allowed: false, decidedBy: `${ref(p)} (DENY, rule ${index})`, notModelled };
  }
  const allows = applying.filter((p) => action(p) === 'ALLOW');
  if (allows.length === 0) return { allowed: true, notModelled };
  for (const p of allows) {
    const index = rules(p).findIndex((r) => ruleMatches(r, ctx, l4 ? 'allow-l4' : 'full', p));
    if (index >= 0) return { allowed: true, decidedBy: `${ref(p)} (ALLOW, rule ${index})`, notModelled };
  }
  return { allowed: false, decidedBy: `${allows.map(ref).join(', ')} (ALLOW, no rule matched)`, notModelled };
}

function ref(p: KubeObject): string {
  return `${p.metadata.namespace}/${p.metadata.name}`;
}

function action(policy: KubeObject): string {
  return String((policy.spec as Obj | undefined)?.['action'] ?? 'ALLOW');
}

function rules(policy: KubeObject): Obj[] {
  return ((policy.spec as Obj | undefined)?.['rules'] as Obj[] | undefined) ?? [];
}

function applies(policy: KubeObject, target: AuthzTarget, rootNamespace: string, notModelled: string[]): boolean {
  if (policy.metadata.namespace !== target.namespace && policy.metadata.namespace !== rootNamespace) return false;
  const spec = (policy.spec ?? {}) as Obj;
  const targetRefs = [...(spec['targetRef'] ? [spec['targetRef'] as Obj] : []), ...((spec['targetRefs'] as Obj[] | undefined) ?? [])];
  // A waypoint enforces the policies attached to it (targetRefs to its Gateway) with every L7
  // attribute; the workloads' own (selector) policies stay with ztunnel (istio.io ambient/usage/
  // l7-features, "Targeting policies to a waypoint").
  const toWaypoint = target.waypoint !== undefined && targetRefs.some((t) => t['kind'] === 'Gateway' && (t['group'] ?? 'gateway.networking.k8s.io') === 'gateway.networking.k8s.io' && `${policy.metadata.namespace}/${String(t['name'])}` === target.waypoint);
  if (target.at === 'waypoint') return toWaypoint;
  if (toWaypoint) return false;
  if (targetRefs.length > 0) {
    // Attached to a waypoint or a gateway: a sidecar and ztunnel do not enforce it.
    notModelled.push(`AuthorizationPolicy ${ref(policy)}: targetRefs (${targetRefs.map((t) => `${String(t['kind'])}/${String(t['name'])}`).join(', ')}) attach it to a waypoint or gateway, which the twin does not run; it does not apply to the workloads themselves`);
    return false;
  }
  const selector = spec['selector'];
  return selector === undefined || matchesLabels(requirementsFromSelector(selector as Parameters<typeof requirementsFromSelector>[0]), target.labels);
}

interface MatchContext {
  peer: AuthzPeer;
  request: RequestAttributes;
  target: AuthzTarget;
  trust: TrustDomain;
  notModelled: string[];
}

type Mode = 'full' | 'allow-l4' | 'deny-l4';

/** A rule matches when some source, some operation and every condition match; an empty rule matches all. */
function ruleMatches(rule: Obj, ctx: MatchContext, mode: Mode, policy: KubeObject): boolean {
  const from = (rule['from'] as Array<{ source?: Obj }> | undefined) ?? [];
  const to = (rule['to'] as Array<{ operation?: Obj }> | undefined) ?? [];
  const when = (rule['when'] as Obj[] | undefined) ?? [];
  // ztunnel drops an ALLOW rule it cannot enforce: the rule matches nothing.
  if (mode === 'allow-l4' && needsL7(from, to, when)) return false;
  if (from.length > 0 && !from.some(({ source = {} }) => sourceMatches(source, ctx, mode, policy))) return false;
  if (to.length > 0 && !to.some(({ operation = {} }) => operationMatches(operation, ctx, mode, policy))) return false;
  return when.every((c) => conditionMatches(c, ctx, mode, policy));
}

function needsL7(from: Array<{ source?: Obj }>, to: Array<{ operation?: Obj }>, when: Obj[]): boolean {
  return (
    from.some(({ source = {} }) => Object.keys(source).some((k) => !L4_SOURCE.has(k))) ||
    to.some(({ operation = {} }) => Object.keys(operation).some((k) => !L4_OPERATION.has(k))) ||
    when.some((c) => !L4_CONDITION.has(String(c['key'])))
  );
}

const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : []);

function sourceMatches(source: Obj, ctx: MatchContext, mode: Mode, policy: KubeObject): boolean {
  const { peer, trust, target } = ctx;
  // Sidecars expand cluster.local and the aliases; ztunnel takes principals as written.
  const principal = (p: string) => principalMatches(p, peer.principal, trust, !target.ztunnel);
  const account = peer.principal ? /\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(peer.principal) : null;
  for (const [field, value] of Object.entries(source)) {
    if (mode === 'deny-l4' && !L4_SOURCE.has(field)) continue;
    const values = list(value);
    let ok: boolean;
    switch (field) {
      case 'principals': ok = values.some(principal); break;
      case 'notPrincipals': ok = !values.some(principal); break;
      // A namespace is read from the peer certificate: plaintext has none.
      case 'namespaces': ok = values.some((n) => istioGlob(n, peer.namespace)); break;
      case 'notNamespaces': ok = !values.some((n) => istioGlob(n, peer.namespace)); break;
      case 'serviceAccounts': ok = account !== null && values.some((v) => v === `${account[1]}/${account[2]}`); break;
      case 'notServiceAccounts': ok = !(account !== null && values.some((v) => v === `${account[1]}/${account[2]}`)); break;
      case 'ipBlocks': ok = values.some((c) => cidrContains(c, peer.ip)); break;
      case 'notIpBlocks': ok = !values.some((c) => cidrContains(c, peer.ip)); break;
      // No proxy in front adds X-Forwarded-For here: the remote address is the peer's.
      case 'remoteIpBlocks': ok = values.some((c) => cidrContains(c, peer.ip)); break;
      case 'notRemoteIpBlocks': ok = !values.some((c) => cidrContains(c, peer.ip)); break;
      // The topology's requests carry no JWT: no request principal matches, every "not" does.
      case 'requestPrincipals': ok = false; break;
      case 'notRequestPrincipals': ok = true; break;
      default:
        ctx.notModelled.push(`AuthorizationPolicy ${ref(policy)}: source field ${field} is not modelled; taken as not matching`);
        ok = false;
    }
    if (!ok) return false;
  }
  return true;
}

function operationMatches(operation: Obj, ctx: MatchContext, mode: Mode, policy: KubeObject): boolean {
  const { request } = ctx;
  const host = request.host.toLowerCase();
  const bareHost = host.replace(/:\d+$/, '');
  const hostMatches = (h: string) => istioGlob(h.toLowerCase(), host) || istioGlob(h.toLowerCase(), bareHost);
  const path = request.path.split('?')[0]!;
  for (const [field, value] of Object.entries(operation)) {
    if (mode === 'deny-l4' && !L4_OPERATION.has(field)) continue;
    const values = list(value);
    let ok: boolean;
    switch (field) {
      case 'ports': ok = values.includes(String(request.port)); break;
      case 'notPorts': ok = !values.includes(String(request.port)); break;
      case 'methods': ok = values.some((m) => istioGlob(m, request.method)); break;
      case 'notMethods': ok = !values.some((m) => istioGlob(m, request.method)); break;
      case 'paths': ok = values.some((p) => pathMatches(p, path)); break;
      case 'notPaths': ok = !values.some((p) => pathMatches(p, path)); break;
      case 'hosts': ok = values.some(hostMatches); break;
      case 'notHosts': ok = !values.some(hostMatches); break;
      default:
        ctx.notModelled.push(`AuthorizationPolicy ${ref(policy)}: operation field ${field} is not modelled; taken as not matching`);
        ok = false;
    }
    if (!ok) return false;
  }
  return true;
}

/**
 * Istio's path match: exact, `*` prefix or suffix, `*` alone, and the path templates `{*}` (one
 * segment) and `{**}` (any rest) (authorization-policy reference, Operation.paths).
 */
export function pathMatches(pattern: string, path: string): boolean {
  if (pattern.includes('{*}') || pattern.includes('{**}')) {
    const source = pattern
      .split(/(\{\*\*\}|\{\*\})/)
      .map((part) => (part === '{**}' ? '.*' : part === '{*}' ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('');
    return new RegExp(`^${source}$`).test(path);
  }
  return istioGlob(pattern, path);
}

/** A `when` condition: the key's value matches one of `values` and none of `notValues`. */
function conditionMatches(condition: Obj, ctx: MatchContext, mode: Mode, policy: KubeObject): boolean {
  const key = String(condition['key'] ?? '');
  if (mode === 'deny-l4' && !L4_CONDITION.has(key)) return true;
  const values = list(condition['values']);
  const notValues = list(condition['notValues']);
  const { peer, request, target, trust } = ctx;
  const check = (matches: (v: string) => boolean, present: boolean): boolean => {
    if (values.length > 0 && !(present && values.some(matches))) return false;
    if (notValues.length > 0 && present && notValues.some(matches)) return false;
    return true;
  };
  const header = /^request\.headers\[(.+)\]$/.exec(key);
  if (header) {
    const value = request.headers[header[1]!.toLowerCase()];
    return check((v) => istioGlob(v, value), value !== undefined);
  }
  switch (key) {
    case 'source.ip':
    case 'remote.ip':
      return check((v) => cidrContains(v, peer.ip), true);
    case 'source.namespace':
      return check((v) => istioGlob(v, peer.namespace), peer.namespace !== undefined);
    case 'source.principal':
      return check((v) => principalMatches(v, peer.principal, trust, !target.ztunnel), peer.principal !== undefined);
    case 'source.serviceAccount': {
      const account = peer.principal ? /\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(peer.principal) : null;
      return check((v) => account !== null && v === `${account[1]}/${account[2]}`, account !== null);
    }
    case 'destination.ip':
      return check((v) => cidrContains(v, target.ip), true);
    case 'destination.port':
      return check((v) => v === String(request.port), true);
    case 'connection.sni': {
      const sni = peer.mtls ? `outbound_.${request.port}_._.${request.host.replace(/:\d+$/, '')}` : undefined;
      return check((v) => istioGlob(v, sni), sni !== undefined);
    }
  }
  // JWT claims exist only with a RequestAuthentication and a token; the topology sends none.
  if (key.startsWith('request.auth.')) return check(() => false, false);
  ctx.notModelled.push(`AuthorizationPolicy ${ref(policy)}: condition key ${key} is not modelled; taken as not matching`);
  return values.length === 0 && check(() => false, false);
}
