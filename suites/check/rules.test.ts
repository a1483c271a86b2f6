import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../clusters/index.js';
import { documentsOfKind, loadConfig } from '../../test/helpers/cli.js';
import type { Manifest } from './manifests.js';
import { runRules } from './rules.js';

const SHOP = join(import.meta.dirname, '..', '..', 'examples', 'shop');
const topology = documentsOfKind(await loadConfig(SHOP), 'Topology')[0]!.data;

const at = (object: Omit<KubeObject, 'metadata'> & { metadata: Record<string, unknown> }, line = 1): Manifest => ({ file: 'manifests/x.yaml', line, object: object as KubeObject });
const namespace = (name: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}) => at({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels, annotations } });
const meshedPayments = namespace('payments', { 'istio-injection': 'enabled' });
const sidecar = (ns: string, mode: string | undefined, selector?: Record<string, string>) =>
  at({ apiVersion: 'networking.istio.io/v1', kind: 'Sidecar', metadata: { name: 'default', namespace: ns }, spec: { ...(mode ? { outboundTrafficPolicy: { mode } } : {}), ...(selector ? { workloadSelector: { labels: selector } } : {}) } });
const egressPolicy = (ns: string, egress?: unknown[], podSelector: unknown = {}) =>
  at({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'egress', namespace: ns }, spec: { podSelector, policyTypes: ['Egress'], ...(egress ? { egress } : {}) } });
const egressRules = (manifests: Manifest[]) => runRules({ manifests, topology }).filter((f) => f.rule === 'MD107');

describe('MD107 egress-left-open', () => {
  it.each([
    ['no outbound policy at all (Istio defaults to ALLOW_ANY)', [meshedPayments], true],
    ['a namespace-wide Sidecar with REGISTRY_ONLY', [meshedPayments, sidecar('payments', 'REGISTRY_ONLY')], false],
    ['a Sidecar with REGISTRY_ONLY that selects only some workloads', [meshedPayments, sidecar('payments', 'REGISTRY_ONLY', { app: 'api' })], true],
    ['the root namespace Sidecar with REGISTRY_ONLY', [meshedPayments, sidecar('istio-system', 'REGISTRY_ONLY')], false],
    ['a namespace Sidecar with ALLOW_ANY overriding the root one', [meshedPayments, sidecar('istio-system', 'REGISTRY_ONLY'), sidecar('payments', 'ALLOW_ANY')], true],
    ['meshConfig REGISTRY_ONLY in the istio ConfigMap', [meshedPayments, at({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio', namespace: 'istio-system' }, data: { mesh: 'outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n' } })], false],
    ['a namespace Sidecar without the field, over meshConfig REGISTRY_ONLY', [meshedPayments, sidecar('payments', undefined), at({ apiVersion: 'install.istio.io/v1alpha1', kind: 'IstioOperator', metadata: { name: 'mesh', namespace: 'istio-system' }, spec: { meshConfig: { outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } } } })], false],
    ['a default-deny egress NetworkPolicy', [meshedPayments, egressPolicy('payments', [{ to: [{ namespaceSelector: {} }] }])], false],
    ['an egress NetworkPolicy that allows 0.0.0.0/0', [meshedPayments, egressPolicy('payments', [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }])], true],
    ['an egress NetworkPolicy with a rule without `to`', [meshedPayments, egressPolicy('payments', [{ ports: [{ port: 443 }] }])], true],
    ['an egress NetworkPolicy for some pods only', [meshedPayments, egressPolicy('payments', [], { matchLabels: { app: 'api' } })], true],
    ['a Linkerd EgressNetwork that denies, in the global egress namespace', [namespace('payments', {}, { 'linkerd.io/inject': 'enabled' }), at({ apiVersion: 'policy.linkerd.io/v1alpha1', kind: 'EgressNetwork', metadata: { name: 'all', namespace: 'linkerd-egress' }, spec: { trafficPolicy: 'Deny' } })], false],
    ['a Linkerd EgressNetwork that allows', [namespace('payments', {}, { 'linkerd.io/inject': 'enabled' }), at({ apiVersion: 'policy.linkerd.io/v1alpha1', kind: 'EgressNetwork', metadata: { name: 'all', namespace: 'payments' }, spec: { trafficPolicy: 'Allow' } })], true],
  ] as const)('%s → open: %s', (_name, manifests, open) => {
    const findings = egressRules([...manifests]);

    expect(findings.length).toBe(open ? 1 : 0);
    if (open) expect(findings[0]).toMatchObject({ severity: 'warning', file: 'manifests/x.yaml', message: expect.stringMatching(/^payments is meshed and its workloads may call any host outside the mesh/) });
  });

  it('says nothing of namespaces that are not meshed', () => {
    expect(egressRules([namespace('payments')])).toEqual([]);
  });
});

describe('MD102 retry-amplification', () => {
  const linkerdRetries = (kind: 'Service' | 'HTTPRoute', ns: string, name: string, limit?: number) =>
    at({
      apiVersion: kind === 'Service' ? 'v1' : 'gateway.networking.k8s.io/v1',
      kind,
      metadata: { name, namespace: ns, annotations: { 'retry.linkerd.io/http': '5xx', ...(limit ? { 'retry.linkerd.io/limit': String(limit) } : {}) } },
      spec: kind === 'Service' ? { ports: [{ port: 8080 }] } : { parentRefs: [{ kind: 'Service', group: 'core', name, port: 8080 }] },
    });
  const amplified = (manifests: Manifest[]) => runRules({ manifests, topology }).filter((f) => f.rule === 'MD102').map((f) => f.message);

  it('counts Linkerd retry annotations on Services and HTTPRoutes along a call path', () => {
    // checkout/api → payments/api: 3 tries × 4 tries = 12 requests for one, over the budget of 10.
    expect(amplified([linkerdRetries('Service', 'checkout', 'api', 2), linkerdRetries('HTTPRoute', 'payments', 'api', 3)])).toEqual([expect.stringMatching(/^up to 12 requests for one along .*checkout\/api → payments\/api \(retry budget 10\)$/)]);
    // The default limit is one retry: 2 × 2 stays within the budget.
    expect(amplified([linkerdRetries('Service', 'checkout', 'api'), linkerdRetries('Service', 'payments', 'api')])).toEqual([]);
  });
});

describe('rule options', () => {
  it('turns a rule off, changes its severity, and moves the thresholds', () => {
    const manifests = [meshedPayments];
    const retries = (attempts: number) => at({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'r', namespace: 'payments' }, spec: { hosts: ['api.payments.svc.cluster.local'], http: [{ retries: { attempts } }] } });

    expect(runRules({ manifests, topology, options: { severities: { MD107: 'off' } } }).map((f) => f.rule)).not.toContain('MD107');
    expect(runRules({ manifests, topology, options: { severities: { MD107: 'error' } } }).find((f) => f.rule === 'MD107')?.severity).toBe('error');
    expect(runRules({ manifests: [retries(3)], topology }).filter((f) => f.rule === 'MD102')).toEqual([]);
    expect(runRules({ manifests: [retries(3)], topology, options: { retryBudget: 3 } }).filter((f) => f.rule === 'MD102').length).toBeGreaterThan(0);
  });
});
