import { matchesLabels, requirementsFromSelector } from './api/selectors.js';
import type { KubeObject } from './api/types.js';

// NetworkPolicy evaluation (networking.k8s.io/v1 semantics): a pod selected by any policy of a
// direction is isolated in that direction, and then only traffic some rule allows gets through;
// both the source's egress and the destination's ingress must allow it.

export interface Endpoint {
  namespace: string;
  labels: Record<string, string>;
  namespaceLabels: Record<string, string>;
}

type Obj = Record<string, unknown>;
type Peer = { podSelector?: Obj; namespaceSelector?: Obj; ipBlock?: Obj };
type Rule = { ports?: Array<{ port?: number | string; endPort?: number; protocol?: string }>; from?: Peer[]; to?: Peer[] };

function selects(selector: unknown, labels: Record<string, string>): boolean {
  return matchesLabels(requirementsFromSelector(selector as Parameters<typeof requirementsFromSelector>[0]), labels);
}

function peerMatches(peer: Peer, policyNamespace: string, other: Endpoint): boolean {
  if (peer.ipBlock) return false;
  const namespaceOk = peer.namespaceSelector ? selects(peer.namespaceSelector, other.namespaceLabels) : other.namespace === policyNamespace;
  const podOk = peer.podSelector ? selects(peer.podSelector, other.labels) : true;
  return namespaceOk && podOk;
}

function portMatches(rule: Rule, port: number): boolean {
  if (!rule.ports || rule.ports.length === 0) return true;
  return rule.ports.some((p) => p.port === undefined || p.port === port || (typeof p.port === 'number' && p.endPort !== undefined && port >= p.port && port <= p.endPort));
}

function allowedBy(policies: KubeObject[], self: Endpoint, other: Endpoint, port: number, direction: 'Ingress' | 'Egress'): boolean {
  const applying = policies.filter((p) => {
    const spec = (p.spec ?? {}) as Obj;
    const types = (spec['policyTypes'] as string[] | undefined) ?? ['Ingress'];
    return p.metadata.namespace === self.namespace && types.includes(direction) && selects(spec['podSelector'] ?? {}, self.labels);
  });
  if (applying.length === 0) return true;
  return applying.some((p) => {
    const rules = (((p.spec as Obj)[direction === 'Ingress' ? 'ingress' : 'egress'] as Rule[] | undefined) ?? []);
    return rules.some((rule) => {
      const peers = direction === 'Ingress' ? rule.from : rule.to;
      const peerOk = !peers || peers.length === 0 || peers.some((peer) => peerMatches(peer, p.metadata.namespace ?? '', other));
      return peerOk && portMatches(rule, port);
    });
  });
}

/** Whether `source` may open a connection to `destination` on `port`, given the cluster's NetworkPolicies. */
export function networkAllows(policies: KubeObject[], source: Endpoint, destination: Endpoint, port: number): boolean {
  return allowedBy(policies, source, destination, port, 'Egress') && allowedBy(policies, destination, source, port, 'Ingress');
}
