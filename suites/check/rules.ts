import { parse } from 'yaml';
import { callOrder, type Topology } from '../../model/index.js';
import type { RolloutPlan } from '../../rollout/index.js';
import type { Manifest } from './manifests.js';
import { emergencyRelaxations, lentWorkloads, policiesMatchingNothing, portNames, routeReferences, workloadsOf } from './rules-policy.js';

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  rule: string;
  name: string;
  severity: Severity;
  message: string;
  file?: string;
  line?: number;
  col?: number;
  /** With --base: the same finding was on the base too; shown, not blocking (a SARIF baseline's "unchanged"). */
  existing?: boolean;
}

export interface Rule {
  id: string;
  name: string;
  severity: Severity;
  doc: string;
  /** The istioctl analyze (IST…) and Kiali (KIA…) codes whose cases this rule covers. */
  covers?: string[];
}

/** The static rules, each with a stable id; severities can be changed per repo. */
export const RULES: Rule[] = [
  { id: 'MD101', name: 'strict-with-plaintext-callers', severity: 'error', doc: 'STRICT mTLS (or Linkerd all-authenticated) on a namespace some of whose callers in the topology are not meshed: their calls are reset.' },
  { id: 'MD102', name: 'retry-amplification', severity: 'warning', doc: 'Retry attempts (Istio VirtualService retries, Linkerd retry.linkerd.io annotations) multiply along a call path: 3 retries at each of 3 hops is up to 64 requests for one.' },
  { id: 'MD103', name: 'strict-without-authorization', severity: 'warning', doc: 'STRICT mTLS with no AuthorizationPolicy in the namespace: mTLS says who is calling, not who may.' },
  { id: 'MD104', name: 'stateful-meshed-without-opt-in', severity: 'warning', doc: 'A stateful namespace meshed without the annotation meshdrill.dev/mesh-stateful: "true".' },
  { id: 'MD105', name: 'sidecar-scope-missing', severity: 'info', doc: 'A meshed namespace with many services and no Sidecar resource: every proxy holds config for the whole mesh.' },
  { id: 'MD106', name: 'control-plane-injected', severity: 'error', doc: 'The control-plane namespace is labelled for injection.' },
  { id: 'MD107', name: 'egress-left-open', severity: 'warning', doc: 'A meshed namespace whose workloads may call any host outside the mesh: no REGISTRY_ONLY outbound policy, no default-deny egress NetworkPolicy, no Linkerd EgressNetwork that denies.' },
  { id: 'MD108', name: 'stage-too-large', severity: 'warning', doc: 'A rollout stage meshes more namespaces than the plan allows per stage.' },
  { id: 'MD109', name: 'emergency-relaxation', severity: 'warning', doc: 'With --base: PERMISSIVE or DISABLE where the base was STRICT (a namespace, the mesh, a port): the emergency relaxation that stays in place after the incident.' },
  { id: 'MD110', name: 'policy-matches-nothing', severity: 'warning', doc: 'A policy that cannot match: a selector no pod has, a source namespace whose callers are not meshed (plaintext carries no identity), a principal or Linkerd identity no workload runs as.', covers: ['KIA0004', 'KIA0101', 'KIA0106'] },
  { id: 'MD111', name: 'routing-loop', severity: 'error', doc: 'VirtualServices that route to each other in a loop.' },
  { id: 'MD112', name: 'access-widened', severity: 'warning', doc: 'With --base: a call the base denied that the head allows, and the policy change that opened it.' },
  { id: 'MD113', name: 'reference-not-found', severity: 'warning', doc: 'A route or DestinationRule for a host with no Service or ServiceEntry, a route to a subset no DestinationRule defines, a VirtualService bound to a Gateway that does not exist.', covers: ['IST0101', 'KIA0202', 'KIA1101', 'KIA1102', 'KIA1107'] },
  { id: 'MD114', name: 'subset-matches-no-workload', severity: 'warning', doc: 'A DestinationRule subset whose labels select no pod of its host.', covers: ['KIA0203'] },
  { id: 'MD115', name: 'destination-rules-conflict', severity: 'warning', doc: 'Two DestinationRules in one namespace for the same host.', covers: ['KIA0201'] },
  { id: 'MD116', name: 'unreachable-route', severity: 'warning', doc: 'An http route after one that matches every request: it never matches.', covers: ['IST0131'] },
  { id: 'MD117', name: 'port-name-convention', severity: 'info', doc: 'A meshed Service port whose name does not say its protocol and has no appProtocol.', covers: ['IST0118', 'KIA0601'] },
];

/** Thresholds and severities a repo can set (its CheckConfig); defaults otherwise. */
export interface RuleOptions {
  severities?: Record<string, Severity | 'off'>;
  retryBudget?: number;
  sidecarScopeThreshold?: number;
}

type Obj = Record<string, unknown>;
const get = (o: unknown, ...path: string[]): unknown => path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Obj)[k] : undefined), o);

/** Namespaces the manifests mesh, by the meshes' own labels and annotations. */
export function meshedNamespaces(manifests: Manifest[]): Set<string> {
  const out = new Set<string>();
  for (const { object } of manifests) {
    if (object.kind !== 'Namespace') continue;
    const labels = object.metadata.labels ?? {};
    const annotations = object.metadata.annotations ?? {};
    if (labels['istio-injection'] === 'enabled' || labels['istio.io/rev'] || labels['istio.io/dataplane-mode'] === 'ambient' || annotations['linkerd.io/inject'] === 'enabled') out.add(object.metadata.name);
  }
  return out;
}

/** Namespaces put in STRICT by PeerAuthentication (namespace-wide or mesh-wide) or Linkerd's default policy. */
export function strictNamespaces(manifests: Manifest[], topology: Topology): Map<string, Manifest> {
  const out = new Map<string, Manifest>();
  for (const m of manifests) {
    const o = m.object;
    if (o.kind === 'PeerAuthentication' && get(o, 'spec', 'mtls', 'mode') === 'STRICT' && !get(o, 'spec', 'selector')) {
      if (o.metadata.namespace === 'istio-system') for (const ns of topology.spec.namespaces) out.set(ns.name, m);
      else if (o.metadata.namespace) out.set(o.metadata.namespace, m);
    }
    if (o.kind === 'Namespace' && ['all-authenticated', 'cluster-authenticated'].includes(o.metadata.annotations?.['config.linkerd.io/default-inbound-policy'] ?? '')) out.set(o.metadata.name, m);
  }
  return out;
}

export function runRules(input: { manifests: Manifest[]; topology: Topology; plan?: RolloutPlan; options?: RuleOptions; base?: Manifest[] }): Finding[] {
  const findings: Finding[] = [];
  const rule = (id: string) => RULES.find((r) => r.id === id)!;
  const RETRY_BUDGET = input.options?.retryBudget ?? 10;
  const SIDECAR_SCOPE_THRESHOLD = input.options?.sidecarScopeThreshold ?? 8;
  const add = (id: string, message: string, where?: Manifest, field?: Array<string | number>) => {
    const r = rule(id);
    const severity = input.options?.severities?.[id] ?? r.severity;
    if (severity === 'off') return;
    // The finding points at the field that decides it ("mode: STRICT"), else at the object.
    const at = where && (field ?? decidingField(where)) && where.positionOf ? where.positionOf(field ?? decidingField(where)!) : where ? { line: where.line, col: 1 } : undefined;
    findings.push({ rule: id, name: r.name, severity, message, ...(where && at ? { file: where.file, line: at.line, col: at.col } : {}) });
  };
  const meshedAt = (m: Manifest | undefined): [Manifest | undefined, Array<string | number> | undefined] => [m, m ? meshingField(m) : undefined];
  const { topology, manifests } = input;
  const meshed = meshedNamespaces(manifests);
  const strict = strictNamespaces(manifests, topology);
  const namespaceManifest = new Map(manifests.filter((m) => m.object.kind === 'Namespace').map((m) => [m.object.metadata.name, m]));

  // MD101: callers from unmeshed namespaces (or the outside, for entrypoints) into STRICT namespaces.
  // A gateway is not governed by the stage's STRICT: an Istio ingress gateway has no inbound
  // sidecar, and meshdrill's Linkerd Server for STRICT leaves role=gateway pods out.
  const gateways = new Set(topology.spec.namespaces.flatMap((n) => n.services.filter((s) => s.gateway).map((s) => `${n.name}/${s.name}`)));
  const governed = (ref: string) => !gateways.has(ref);
  for (const [ns, where] of strict) {
    const callers = new Set<string>();
    for (const caller of topology.spec.namespaces) {
      for (const svc of caller.services) for (const call of svc.calls) if (call.to.startsWith(`${ns}/`) && governed(call.to) && caller.name !== ns && (!meshed.has(caller.name) || !caller.meshable)) callers.add(`${caller.name}/${svc.name} → ${call.to}`);
    }
    for (const entry of topology.spec.entrypoints) if (entry.service.startsWith(`${ns}/`) && governed(entry.service)) callers.add(`outside → ${entry.service}`);
    if (callers.size) add('MD101', `${ns} is STRICT, but ${callers.size} caller${callers.size === 1 ? ' is' : 's are'} not meshed: ${[...callers].join(', ')}`, where);
  }
  // MD102: retries multiply along call paths.
  const attempts = new Map<string, { n: number; where: Manifest; field?: Array<string | number> }>();
  for (const m of manifests) {
    if (m.object.kind !== 'VirtualService') continue;
    for (const host of (get(m.object, 'spec', 'hosts') as string[] | undefined) ?? []) {
      const [svc, ns] = host.split('.');
      const perRoute = ((get(m.object, 'spec', 'http') as Obj[] | undefined) ?? []).map((h) => Number(get(h, 'retries', 'attempts') ?? 0));
      const retry = perRoute.reduce((a, b) => Math.max(a, b), 0);
      if (retry > 0 && svc && ns) attempts.set(`${ns}/${svc}`, { n: retry, where: m, field: ['spec', 'http', perRoute.indexOf(retry), 'retries', 'attempts'] });
    }
  }
  // Linkerd ≥ 2.16: retry.linkerd.io/http on a Service (or an HTTPRoute whose parent is one) retries
  // up to retry.linkerd.io/limit times, 1 by default (linkerd.io/2/reference/retries).
  for (const m of manifests) {
    const annotations = m.object.metadata.annotations ?? {};
    if (!annotations['retry.linkerd.io/http'] && !annotations['retry.linkerd.io/grpc']) continue;
    const limit = Number(annotations['retry.linkerd.io/limit'] ?? '1');
    if (!Number.isInteger(limit) || limit <= 0) continue;
    const namespace = m.object.metadata.namespace ?? 'default';
    const targets = m.object.kind === 'Service'
      ? [m.object.metadata.name]
      : m.object.kind === 'HTTPRoute' || m.object.kind === 'GRPCRoute'
        ? ((get(m.object, 'spec', 'parentRefs') as Obj[] | undefined) ?? []).filter((r) => r['kind'] === 'Service').map((r) => String(r['name']))
        : [];
    const field = ['metadata', 'annotations', annotations['retry.linkerd.io/limit'] !== undefined ? 'retry.linkerd.io/limit' : annotations['retry.linkerd.io/http'] !== undefined ? 'retry.linkerd.io/http' : 'retry.linkerd.io/grpc'];
    for (const name of targets) attempts.set(`${namespace}/${name}`, { n: Math.max(limit, attempts.get(`${namespace}/${name}`)?.n ?? 0), where: m, field });
  }
  if (attempts.size) {
    const calls = new Map<string, string[]>(topology.spec.namespaces.flatMap((ns) => ns.services.map((s): [string, string[]] => [`${ns.name}/${s.name}`, s.calls.map((c) => c.to)])));
    // The worst factor on each service along paths still within the budget, in call order (one
    // pass, no recursion: call chains may be thousands of services long). A path is reported at
    // the first retrying hop that takes it over the budget, and followed no further.
    const tries = (svc: string) => (attempts.get(svc)?.n ?? 0) + 1;
    const best = new Map<string, { factor: number; from?: string }>();
    for (const entry of topology.spec.entrypoints) if (tries(entry.service) > (best.get(entry.service)?.factor ?? 0)) best.set(entry.service, { factor: tries(entry.service) });
    const pathTo = (svc: string) => {
      const path = [svc];
      for (let at = best.get(svc)?.from; at !== undefined; at = best.get(at)?.from) path.unshift(at);
      return path;
    };
    for (const svc of callOrder(calls).order) {
      const here = best.get(svc);
      if (!here) continue;
      for (const next of calls.get(svc) ?? []) {
        const f = here.factor * tries(next);
        if (f > RETRY_BUDGET && attempts.has(next)) add('MD102', `up to ${f} requests for one along ${[...pathTo(svc), next].join(' → ')} (retry budget ${RETRY_BUDGET})`, attempts.get(next)!.where, attempts.get(next)!.field);
        else if (f > (best.get(next)?.factor ?? 0)) best.set(next, { factor: f, from: svc });
      }
    }
  }
  // MD103: STRICT without any AuthorizationPolicy in the namespace.
  for (const [ns, where] of strict) {
    if (!manifests.some((m) => m.object.kind === 'AuthorizationPolicy' && (m.object.metadata.namespace === ns || m.object.metadata.namespace === 'istio-system'))) add('MD103', `${ns} is STRICT with no AuthorizationPolicy: every meshed workload may call it`, where);
  }
  // MD104: stateful namespaces meshed without an explicit opt-in.
  for (const ns of topology.spec.namespaces) {
    const statefulNs = ns.stateful || ns.services.some((s) => s.stateful);
    if (statefulNs && meshed.has(ns.name) && namespaceManifest.get(ns.name)?.object.metadata.annotations?.['meshdrill.dev/mesh-stateful'] !== 'true') add('MD104', `${ns.name} holds stateful services and is meshed without meshdrill.dev/mesh-stateful: "true"`, ...meshedAt(namespaceManifest.get(ns.name)));
  }
  // MD105: no Sidecar scope in a large meshed namespace.
  for (const ns of topology.spec.namespaces) {
    if (meshed.has(ns.name) && ns.services.length > SIDECAR_SCOPE_THRESHOLD && !manifests.some((m) => m.object.kind === 'Sidecar' && m.object.metadata.namespace === ns.name)) add('MD105', `${ns.name} has ${ns.services.length} services and no Sidecar resource`, ...meshedAt(namespaceManifest.get(ns.name)));
  }
  // MD106: injection into the control plane.
  for (const cp of ['istio-system', 'linkerd']) if (meshed.has(cp)) add('MD106', `${cp} is labelled for injection; the control plane must not inject itself`, ...meshedAt(namespaceManifest.get(cp)));
  // MD107: egress left open from meshed namespaces.
  for (const ns of topology.spec.namespaces) {
    if (meshed.has(ns.name) && !egressClosed(manifests, ns.name)) add('MD107', `${ns.name} is meshed and its workloads may call any host outside the mesh: set a Sidecar outboundTrafficPolicy of REGISTRY_ONLY, a default-deny egress NetworkPolicy, or a Linkerd EgressNetwork with trafficPolicy: Deny`, ...meshedAt(namespaceManifest.get(ns.name)));
  }
  // MD108: stages larger than the plan allows.
  const max = input.plan?.spec.maxNamespacesPerStage;
  if (input.plan && max !== undefined) for (const stage of input.plan.spec.stages) if (stage.namespaces.length > max) add('MD108', `stage ${stage.name} meshes ${stage.namespaces.length} namespaces; the plan allows ${max}`);
  // MD109–MD117: what policies and routes do to the workloads that will run.
  const report = (id: string, message: string, where: Manifest, field?: Array<string | number>) => add(id, message, where, field);
  const workloads = workloadsOf(topology, lentWorkloads(manifests));
  if (input.base) emergencyRelaxations(input.base, manifests, report);
  policiesMatchingNothing(manifests, meshed, workloads, report);
  routeReferences(manifests, topology, workloads, report);
  portNames(manifests, meshed, report);
  return findings;
}

/** The field of an object a namespace-level rule is about: a PeerAuthentication's mode, the label that meshes a Namespace. */
function decidingField(m: Manifest): Array<string | number> | undefined {
  const o = m.object;
  if (o.kind === 'PeerAuthentication') return ['spec', 'mtls', 'mode'];
  if (o.kind === 'Namespace' && o.metadata.annotations?.['config.linkerd.io/default-inbound-policy'] !== undefined) return ['metadata', 'annotations', 'config.linkerd.io/default-inbound-policy'];
  return meshingField(m);
}

/** The label or annotation that meshes a Namespace. */
function meshingField(m: Manifest): Array<string | number> | undefined {
  const o = m.object;
  if (o.kind !== 'Namespace') return undefined;
  const labels = o.metadata.labels ?? {};
  const annotations = o.metadata.annotations ?? {};
  for (const key of ['istio-injection', 'istio.io/rev', 'istio.io/dataplane-mode']) if (labels[key] !== undefined) return ['metadata', 'labels', key];
  if (annotations['linkerd.io/inject'] !== undefined) return ['metadata', 'annotations', 'linkerd.io/inject'];
  return undefined;
}

const ISTIO_ROOT_NAMESPACE = 'istio-system';
const LINKERD_GLOBAL_EGRESS_NAMESPACE = 'linkerd-egress';

/** The mesh-wide outbound policy from the istiod ConfigMap's `mesh` or an IstioOperator's meshConfig; Istio's default is ALLOW_ANY. */
function meshOutboundMode(manifests: Manifest[]): string {
  for (const { object } of manifests) {
    if (object.kind === 'IstioOperator') {
      const mode = get(object, 'spec', 'meshConfig', 'outboundTrafficPolicy', 'mode');
      if (typeof mode === 'string') return mode;
    }
    if (object.kind === 'ConfigMap' && object.metadata.name === 'istio' && object.metadata.namespace === ISTIO_ROOT_NAMESPACE) {
      const mesh = get(object, 'data', 'mesh');
      if (typeof mesh !== 'string') continue;
      try {
        const mode = get(parse(mesh), 'outboundTrafficPolicy', 'mode');
        if (typeof mode === 'string') return mode;
      } catch {
        // An unparsable mesh config is istiod's problem to report; it leaves the default.
      }
    }
  }
  return 'ALLOW_ANY';
}

/**
 * Whether workloads in a namespace are kept from calling arbitrary hosts outside the mesh.
 * - Istio: outboundTrafficPolicy REGISTRY_ONLY. A namespace-wide Sidecar (no workloadSelector) decides for its
 *   namespace; without one, the Sidecar in the root namespace applies "by default to all namespaces without a
 *   Sidecar configuration"; a Sidecar without the field falls back to meshConfig, whose default is ALLOW_ANY.
 *   https://istio.io/latest/docs/reference/config/networking/sidecar/ and
 *   https://istio.io/latest/docs/tasks/traffic-management/egress/egress-control/
 * - Kubernetes: a NetworkPolicy selecting every pod with policyType Egress and no rule open to everything.
 * - Linkerd: an EgressNetwork with trafficPolicy Deny in the namespace, or in the global egress namespace
 *   (linkerd-egress by default), whose EgressNetworks "affect clients in all namespaces".
 *   https://linkerd.io/2/reference/egress-network/
 */
export function egressClosed(manifests: Manifest[], namespace: string): boolean {
  const namespaceWideSidecar = (ns: string) => manifests.find((m) => m.object.kind === 'Sidecar' && m.object.metadata.namespace === ns && !get(m.object, 'spec', 'workloadSelector'));
  const sidecar = namespaceWideSidecar(namespace) ?? namespaceWideSidecar(ISTIO_ROOT_NAMESPACE);
  const mode = (sidecar && get(sidecar.object, 'spec', 'outboundTrafficPolicy', 'mode')) ?? meshOutboundMode(manifests);
  if (mode === 'REGISTRY_ONLY') return true;
  for (const { object } of manifests) {
    if (object.kind === 'NetworkPolicy' && object.metadata.namespace === namespace && selectsAllPods(get(object, 'spec', 'podSelector')) && ((get(object, 'spec', 'policyTypes') as string[] | undefined) ?? []).includes('Egress')) {
      const rules = (get(object, 'spec', 'egress') as Obj[] | undefined) ?? [];
      if (!rules.some(opensEverything)) return true;
    }
    if (object.kind === 'EgressNetwork' && get(object, 'spec', 'trafficPolicy') === 'Deny' && (object.metadata.namespace === namespace || object.metadata.namespace === LINKERD_GLOBAL_EGRESS_NAMESPACE)) return true;
  }
  return false;
}

function selectsAllPods(selector: unknown): boolean {
  if (!selector || typeof selector !== 'object') return false;
  const s = selector as Obj;
  return Object.keys((s['matchLabels'] as Obj | undefined) ?? {}).length === 0 && ((s['matchExpressions'] as unknown[] | undefined) ?? []).length === 0;
}

/** An egress rule with no `to` allows every destination; so does an ipBlock of 0.0.0.0/0 or ::/0 with no exceptions. */
function opensEverything(rule: Obj): boolean {
  const to = rule['to'] as Obj[] | undefined;
  if (!to || to.length === 0) return true;
  return to.some((peer) => ['0.0.0.0/0', '::/0'].includes(String(get(peer, 'ipBlock', 'cidr'))) && ((get(peer, 'ipBlock', 'except') as unknown[] | undefined) ?? []).length === 0);
}
