import type { KubeObject } from '../../clusters/index.js';
import { ConfigError } from '../../core/index.js';
import type { MeshAdapter } from '../../meshes/index.js';
import type { Topology } from '../../model/index.js';
import { planStage, type RolloutPlan } from '../../rollout/index.js';

/** One RBAC PolicyRule. */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/**
 * Rules by where they hold: '' is cluster-wide (a ClusterRole and its ClusterRoleBinding), a
 * namespace gets a Role and a RoleBinding of its own, so nothing is granted where it is not used.
 */
export type ScopedRules = Map<string, PolicyRule[]>;

const CLUSTER = '';

function add(rules: ScopedRules, scope: string, rule: PolicyRule): void {
  const list = rules.get(scope) ?? [];
  const same = list.find((r) => r.apiGroups.join() === rule.apiGroups.join() && r.resources.join() === rule.resources.join() && (r.resourceNames ?? []).join() === (rule.resourceNames ?? []).join());
  if (same) same.verbs = [...new Set([...same.verbs, ...rule.verbs])].sort();
  else list.push({ ...rule, verbs: [...rule.verbs].sort() });
  rules.set(scope, list);
}

function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
}

/** The plural the API serves a kind under, for the kinds meshdrill renders (PeerAuthentication, Server, AuthorizationPolicy, …). */
export function resourceOf(kind: string): string {
  const lower = kind.toLowerCase();
  return lower.endsWith('y') ? `${lower.slice(0, -1)}ies` : `${lower}s`;
}

/**
 * What a rollout gate on a live cluster reads, at every stage of the plan: the topology's
 * namespaces by name, their pods (whether the proxies followed the namespace's marks), the policy
 * objects each stage renders, and the control plane's pods where a stage requires it ready.
 * Nothing else, and nothing written: the GitOps engine applies the stages.
 */
export function gateRules(plan: RolloutPlan, topology: Topology, adapter: MeshAdapter): ScopedRules {
  const rules: ScopedRules = new Map();
  const namespaces = topology.spec.namespaces.map((n) => n.name);
  add(rules, CLUSTER, { apiGroups: [''], resources: ['namespaces'], verbs: ['get'], resourceNames: [...namespaces].sort() });
  const sidecars = !(adapter.name === 'istio' && adapter.mode === 'ambient');
  if (sidecars) for (const ns of namespaces) add(rules, ns, { apiGroups: [''], resources: ['pods'], verbs: ['list'] });
  for (let stage = 1; stage <= plan.spec.stages.length; stage++) {
    const planned = planStage(plan, topology, stage, adapter);
    for (const object of [...planned.policies, ...planned.removedPolicies]) add(rules, object.metadata.namespace ?? CLUSTER, { apiGroups: [groupOf(object.apiVersion)], resources: [resourceOf(object.kind)], verbs: ['get'] });
  }
  if (plan.spec.stages.some((s) => s.requires.includes('control-plane-ready'))) add(rules, adapter.controlPlane.namespace, { apiGroups: [''], resources: ['pods'], verbs: ['list'] });
  return rules;
}

/** A fault step as the generator needs it. */
export interface FaultStep {
  type: string;
  namespaces?: string[];
  destination?: string;
  variant?: string;
  method?: string;
}

/**
 * What a game day of fault steps needs on a cluster it does not own: the run lease in kube-system,
 * the cluster's identity (kube-system's uid), the control plane's pods (the install check), and
 * per fault the objects it changes and its undo puts back (chaos/faults.ts, chaos/changes.ts).
 * Steps that deploy or stage would need write access to workloads and namespaces: refused here.
 */
export function gameDayRules(steps: Array<Record<string, unknown>>, adapter: MeshAdapter): ScopedRules {
  const rules: ScopedRules = new Map();
  const cp = adapter.controlPlane.namespace;
  add(rules, 'kube-system', { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] });
  add(rules, 'kube-system', { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['delete', 'get', 'patch'], resourceNames: ['meshdrill'] });
  add(rules, CLUSTER, { apiGroups: [''], resources: ['namespaces'], verbs: ['get'], resourceNames: ['kube-system'] });
  // The teardown waits for the namespaces the run made (by its run-id label) to be gone: a label selector RBAC cannot narrow.
  add(rules, CLUSTER, { apiGroups: [''], resources: ['namespaces'], verbs: ['list'] });
  add(rules, cp, { apiGroups: [''], resources: ['pods'], verbs: ['list'] });
  const write = ['create', 'delete', 'get', 'patch'];
  for (const [i, step] of steps.entries()) {
    const kind = Object.keys(step).find((k) => k !== 'name');
    if (kind === 'provision' || kind === 'install' || kind === 'assert' || kind === 'wait' || kind === 'load' || kind === 'revert') continue;
    if (kind !== 'fault') throw new ConfigError(`spec.steps[${i}] is a ${kind} step: an in-cluster game day runs faults, asserts and waits against the cluster as its owners keep it; a ${kind} step would need write access to their workloads and namespaces`);
    const fault = step['fault'] as FaultStep;
    switch (fault.type) {
      case 'control-plane-partition':
        for (const ns of fault.namespaces ?? []) add(rules, ns, { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: write });
        break;
      case 'proxy-crash':
        for (const ns of fault.namespaces ?? []) add(rules, ns, { apiGroups: [''], resources: ['pods'], verbs: ['delete', 'get', 'list'] });
        break;
      case 'http-fault': {
        const ns = (fault.destination ?? '').split('/')[0]!;
        add(rules, ns, { apiGroups: ['networking.istio.io'], resources: ['virtualservices'], verbs: write });
        break;
      }
      case 'control-plane-crash':
      case 'injector-outage':
        if (fault.method === 'delete-pods') add(rules, cp, { apiGroups: [''], resources: ['pods'], verbs: ['delete', 'list'] });
        else add(rules, cp, { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch'] });
        break;
      case 'ca-loss':
        if ((fault.variant ?? 'signer-unavailable') === 'signer-unavailable') add(rules, cp, { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch'] });
        else add(rules, cp, { apiGroups: [''], resources: ['secrets'], verbs: write });
        break;
      case 'cert-expiry':
        add(rules, cp, { apiGroups: [''], resources: ['configmaps'], verbs: write });
        add(rules, cp, { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch'] });
        break;
      case 'proxy-cpu-saturation':
      case 'proxy-memory-leak':
        for (const ns of fault.namespaces ?? []) {
          add(rules, ns, { apiGroups: [''], resources: ['pods'], verbs: ['list'] });
          add(rules, ns, { apiGroups: ['apps'], resources: ['deployments', 'statefulsets'], verbs: ['get', 'list', 'patch'] });
        }
        break;
      case 'circuit-breaker': {
        const ns = (fault.destination ?? '').split('/')[0]!;
        add(rules, CLUSTER, { apiGroups: ['networking.istio.io'], resources: ['destinationrules'], verbs: ['list'] });
        add(rules, ns, { apiGroups: ['networking.istio.io'], resources: ['destinationrules'], verbs: write });
        break;
      }
      case 'telemetry-drop':
        for (const ns of fault.namespaces ?? []) add(rules, ns, { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['list', ...write] });
        break;
      case 'routing-loop': {
        const services = (step['fault'] as { services?: string[] }).services ?? [];
        const routes = adapter.name === 'istio' ? { apiGroups: ['networking.istio.io'], resources: ['virtualservices'] } : { apiGroups: ['policy.linkerd.io', 'gateway.networking.k8s.io'], resources: ['httproutes'] };
        add(rules, CLUSTER, { ...routes, verbs: ['list'] });
        for (const ref of services) {
          const ns = ref.split('/')[0]!;
          add(rules, ns, { apiGroups: [''], resources: ['services'], verbs: ['get'] });
          add(rules, ns, { ...routes, verbs: write });
        }
        break;
      }
      case 'zone-partition':
        // Which pods are cut off is known only when it runs: the pods and policies of every namespace.
        add(rules, CLUSTER, { apiGroups: [''], resources: ['nodes'], verbs: ['list'] });
        add(rules, CLUSTER, { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'patch'] });
        add(rules, CLUSTER, { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['list', ...write] });
        break;
      case 'mtls-relaxation':
        for (const ns of (step['fault'] as { namespaces?: string[] }).namespaces ?? []) {
          add(rules, ns, { apiGroups: ['security.istio.io', 'policy.linkerd.io'], resources: ['peerauthentications', 'servers', 'authorizationpolicies', 'meshtlsauthentications'], verbs: write });
          add(rules, ns, { apiGroups: ['networking.istio.io'], resources: ['destinationrules'], verbs: write });
        }
        break;
      case 'region-loss':
        throw new ConfigError(`spec.steps[${i}]: region-loss takes down a fleet's cluster, which runs on the embedded fleet only`);
      case 'node-loss':
        throw new ConfigError(`spec.steps[${i}]: node-loss stops nodes, which an in-cluster game day cannot do (the provider owns them); run it on kind or the embedded cluster`);
      default:
        throw new ConfigError(`spec.steps[${i}]: no in-cluster permissions are known for fault "${fault.type}"`);
    }
  }
  return rules;
}

/** The Roles, ClusterRoles and their bindings for a service account, one per scope. */
export function rbacObjects(name: string, serviceAccount: { name: string; namespace: string }, rules: ScopedRules, labels: Record<string, string>): KubeObject[] {
  const out: KubeObject[] = [];
  const subjects = [{ kind: 'ServiceAccount', name: serviceAccount.name, namespace: serviceAccount.namespace }];
  for (const [scope, list] of [...rules].sort(([a], [b]) => a.localeCompare(b))) {
    const kind = scope === CLUSTER ? 'ClusterRole' : 'Role';
    const metadata = { name, ...(scope === CLUSTER ? {} : { namespace: scope }), labels };
    out.push({ apiVersion: 'rbac.authorization.k8s.io/v1', kind, metadata, rules: list } as KubeObject);
    out.push({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: `${kind}Binding`, metadata, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind, name }, subjects } as KubeObject);
  }
  return out;
}
