import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { behaviourTable, type BehaviourCase } from './helpers/behaviour-table.js';
import { HOUR, type Lab, partition, WITH_GATEWAY } from './helpers/twin-lab.js';

// One row per (mesh, client state, server state, policy, fault), each citing where the
// behaviour is documented. Sources are abbreviated; full paths in ../shared/reference/mesh-facts.md
// and chaos.md.

type Case = BehaviourCase;

const MIN = 60_000;
const podsRejected = (lab: Lab, ns: string) =>
  lab.lab.cluster.api
    .list(lab.lab.cluster.api.types.all().find((t) => t.resource === 'events')!, ns)
    .filter((e) => e['reason'] === 'FailedCreate')
    .map((e) => String(e['message']));

async function scaleControlPlane(lab: Lab, replicas: number): Promise<void> {
  const [ns, names] = lab.lab.adapter.name === 'istio' ? ['istio-system', ['istiod']] : ['linkerd', ['linkerd-identity']];
  for (const name of names) await lab.lab.kube.mergePatch('apps/v1', 'Deployment', ns, name, { spec: { replicas } });
  await lab.advance(5_000);
}

/** A new Linkerd trust anchor and an issuer under it (with the lifetimes asked for), where the control plane reads them. */
async function newLinkerdRoot(lab: Lab, lifetimes: { issuerLifetimeMs?: number; anchorLifetimeMs?: number; now?: Date } = {}): Promise<{ issuerPem: string }> {
  const { linkerdIdentity } = await import('../meshes/pki/index.js');
  const { anchor, issuer } = await linkerdIdentity(lifetimes);
  await lab.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'linkerd-identity-trust-roots', namespace: 'linkerd' }, data: { 'ca-bundle.crt': anchor.certPem } });
  await lab.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'linkerd-identity-issuer', namespace: 'linkerd' }, stringData: { 'crt.pem': issuer.certPem, 'key.pem': issuer.keyPem } });
  return { issuerPem: issuer.certPem };
}

/** After a root planted to expire 2 h from now: meshed calls work for an hour, fail once it has expired; plaintext callers carry on. */
async function meshedCallsEndWithTheRoot(lab: Lab): Promise<void> {
  await lab.advance(MIN);
  await lab.mesh('server');
  await lab.mesh('client');
  expect((await lab.window(HOUR, 'client/caller', 'server/api')).share).toBe(1);
  await lab.advance(HOUR);
  expect((await lab.window(HOUR, 'client/caller', 'server/api')).share).toBe(0);
  expect((await lab.window(HOUR, 'legacy/batch', 'server/api')).share).toBe(1);
}

/** A plugged-in Istio CA (cacerts) under a root no proxy trusts yet. */
async function newIstioRoot(lab: Lab): Promise<void> {
  const { istioCacerts } = await import('../meshes/pki/index.js');
  const { files } = await istioCacerts();
  await lab.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cacerts', namespace: 'istio-system' }, stringData: { ...files } });
}

const CASES: Case[] = [
  // --- Ingress gateways ---
  {
    name: 'istio: an ingress gateway in a STRICT namespace still takes plaintext from outside and calls inward with mTLS',
    mesh: 'istio',
    topology: WITH_GATEWAY,
    source: 'peer_authentication reference: PeerAuthentication governs connections "to an Envoy proxy sidecar"; a gateway is Envoy with no sidecar',
    run: async (lab) => {
      await lab.mesh('edge');
      await lab.mesh('server');
      await lab.mtls(undefined, 'STRICT');
      const start = lab.now;
      expect((await lab.window(2 * MIN, 'external', 'edge/gateway')).share).toBe(1);
      expect(lab.edge('edge/gateway', 'server/api', start, lab.now).share).toBe(1);
      expect(lab.increase('istio_requests_total', { reporter: 'destination', source_workload: 'gateway', connection_security_policy: 'mutual_tls' }, start)).toBeGreaterThan(0);
      // The gateway reports what it sends on, never as a destination.
      expect(lab.increase('istio_requests_total', { reporter: 'destination', destination_workload: 'gateway' }, start)).toBe(0);
      expect(lab.increase('istio_requests_total', { reporter: 'source', source_workload: 'gateway' }, start)).toBeGreaterThan(0);
    },
  },
  {
    name: 'istio: the same workload without the gateway role is a sidecar, and STRICT resets the outside',
    mesh: 'istio',
    topology: { ...WITH_GATEWAY, spec: { ...WITH_GATEWAY.spec, namespaces: WITH_GATEWAY.spec.namespaces.map((n) => ({ ...n, services: n.services.map((s) => ({ ...s, gateway: false })) })) } },
    source: 'peer_authentication.proto STRICT: "TLS with client cert must be presented"',
    run: async (lab) => {
      await lab.mesh('edge');
      await lab.mtls('edge', 'STRICT');
      expect((await lab.window(2 * MIN, 'external', 'edge/gateway')).share).toBe(0);
    },
  },
  {
    name: "linkerd: a meshed ingress takes plaintext from outside under meshdrill's STRICT and calls inward with mTLS",
    mesh: 'linkerd',
    topology: WITH_GATEWAY,
    source: 'linkerd.io tasks/using-ingress: the ingress is meshed, its outbound calls get mTLS; the STRICT Server leaves role=gateway pods out',
    run: async (lab) => {
      await lab.mesh('edge');
      await lab.mesh('server');
      await lab.mtls('edge', 'STRICT');
      await lab.mtls('server', 'STRICT');
      const start = lab.now;
      expect((await lab.window(2 * MIN, 'external', 'edge/gateway')).share).toBe(1);
      expect(lab.edge('edge/gateway', 'server/api', start, lab.now).share).toBe(1);
      expect(lab.increase('response_total', { direction: 'inbound', deployment: 'api', tls: 'true' }, start)).toBeGreaterThan(0);
    },
  },
  // --- Istio sidecar: injection ---
  {
    name: 'istio: a namespace label without a restart injects nothing',
    mesh: 'istio',
    source: 'istio.io sidecar-injection: "Injection occurs at pod creation time"',
    run: async (lab) => {
      await lab.mesh('server', false);
      expect(lab.proxies('server')).toHaveLength(0);
    },
  },
  {
    name: 'istio: label and restart injects istio-proxy into every pod',
    mesh: 'istio',
    source: 'istio.io sidecar-injection; mutatingwebhook.yaml namespaceSelector istio-injection=enabled',
    run: async (lab) => {
      await lab.mesh('server');
      expect(lab.proxies('server').map((p) => p.kind)).toEqual(['istio', 'istio']);
      expect(lab.ready('server')).toBe(2);
    },
  },
  {
    name: 'istio: pods labelled sidecar.istio.io/inject=false are not injected (the legacy namespace)',
    mesh: 'istio',
    source: 'mutatingwebhook.yaml objectSelector sidecar.istio.io/inject NotIn ["false"]',
    run: async (lab) => {
      await lab.mesh('legacy');
      expect(lab.proxies('legacy')).toHaveLength(0);
    },
  },
  {
    name: 'istio: the control-plane namespace is never injected',
    mesh: 'istio',
    source: 'istio/istio#26380: an injected istio-system can block istiod from coming back',
    run: async (lab) => {
      await lab.mesh('istio-system');
      expect(lab.proxies('istio-system')).toHaveLength(0);
    },
  },
  {
    name: 'istio: with istiod down, pod creation in an injected namespace is rejected (failurePolicy Fail)',
    mesh: 'istio',
    source: 'mutatingwebhook.yaml failurePolicy: Fail; mesh-facts §1.7',
    run: async (lab) => {
      await lab.mesh('server');
      await scaleControlPlane(lab, 0);
      await lab.restart('server');
      expect(podsRejected(lab, 'server').some((m) => m.includes('failed calling webhook "namespace.sidecar-injector.istio.io"'))).toBe(true);
    },
  },
  {
    name: 'istio: with istiod down, pods in namespaces without injection are created normally',
    mesh: 'istio',
    source: 'mutatingwebhook.yaml: the webhook matches only namespaces selected for injection',
    run: async (lab) => {
      await scaleControlPlane(lab, 0);
      await lab.restart('client');
      await lab.advance(10_000);
      expect(podsRejected(lab, 'client')).toEqual([]);
      expect(lab.ready('client')).toBe(3);
    },
  },
  // --- Istio sidecar: mTLS modes ---
  {
    name: 'istio: PERMISSIVE accepts plaintext from an unmeshed client, reported as connection_security_policy="none"',
    mesh: 'istio',
    source: 'peer_authentication.proto PERMISSIVE; mtls-migration snips (200 before any policy)',
    run: async (lab) => {
      await lab.mesh('server');
      const start = lab.now;
      const seen = await lab.window(2 * MIN, 'legacy/batch', 'server/api');
      expect(seen.share).toBe(1);
      expect(lab.increase('istio_requests_total', { reporter: 'destination', connection_security_policy: 'none' }, start)).toBeGreaterThan(0);
    },
  },
  {
    name: 'istio: PERMISSIVE with a meshed client uses mTLS (auto-mTLS), reported as mutual_tls',
    mesh: 'istio',
    source: 'peer_authentication.proto; metrics reference connection_security_policy',
    run: async (lab) => {
      await lab.mesh('server');
      await lab.mesh('client');
      const start = lab.now;
      await lab.window(2 * MIN, 'client/caller', 'server/api');
      expect(lab.increase('istio_requests_total', { reporter: 'destination', source_workload: 'caller', connection_security_policy: 'mutual_tls' }, start)).toBeGreaterThan(0);
      expect(lab.increase('istio_requests_total', { reporter: 'destination', source_workload: 'caller', connection_security_policy: 'none' }, start)).toBe(0);
    },
  },
  {
    name: 'istio: STRICT resets plaintext from an unmeshed client: no HTTP status',
    mesh: 'istio',
    source: 'mtls-migration snips: "000 / command terminated with exit code 56"',
    run: async (lab) => {
      await lab.mesh('server');
      await lab.mtls('server', 'STRICT');
      const seen = await lab.window(2 * MIN, 'legacy/batch', 'server/api');
      expect(seen.share).toBe(0);
      expect(Object.keys(seen.codes)).toEqual(['0']);
    },
  },
  {
    name: 'istio: a plaintext request reset by STRICT never appears in the server\'s istio_requests_total',
    mesh: 'istio',
    source: 'mesh-facts §1.5 inference: rejected before it is an HTTP request',
    run: async (lab) => {
      await lab.mesh('server');
      await lab.mtls('server', 'STRICT');
      const start = lab.now;
      await lab.window(2 * MIN, 'legacy/batch', 'server/api');
      expect(lab.increase('istio_requests_total', { reporter: 'destination', source_workload: 'unknown' }, start)).toBe(0);
    },
  },
  {
    name: 'istio: STRICT accepts a meshed client',
    mesh: 'istio',
    source: 'peer_authentication.proto STRICT: "TLS with client cert must be presented"',
    run: async (lab) => {
      await lab.mesh('server');
      await lab.mesh('client');
      await lab.mtls('server', 'STRICT');
      expect((await lab.window(2 * MIN, 'client/caller', 'server/api')).share).toBe(1);
    },
  },
  {
    name: 'istio: a mesh-wide STRICT policy in the root namespace applies to every namespace',
    mesh: 'istio',
    source: 'peer_authentication.proto: root namespace policy without selector is mesh-wide',
    run: async (lab) => {
      await lab.mesh('server');
      await lab.mtls(undefined, 'STRICT');
      expect((await lab.window(2 * MIN, 'legacy/batch', 'server/api')).share).toBe(0);
    },
  },
  {
    name: 'istio: a namespace policy overrides the mesh-wide one',
    mesh: 'istio',
    source: 'peer_authentication.proto: workload > namespace > root namespace',
    run: async (lab) => {
      await lab.mesh('server');
      await lab.mtls(undefined, 'STRICT');
      await lab.mtls('server', 'PERMISSIVE');
      expect((await lab.window(2 * MIN, 'legacy/batch', 'server/api')).share).toBe(1);
    },
  },
  {
    name: 'istio: a workload policy overrides the namespace policy',
    mesh: 'istio',
    source: 'peer_authentication.proto: selector-scoped policy wins',
    run: async (lab) => {
      await lab.mesh('server');
      await lab.mtls('server', 'STRICT');
      await lab.apply({ apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'api', namespace: 'server' }, spec: { selector: { matchLabels: { app: 'api' } }, mtls: { mode: 'PERMISSIVE' } } });
      expect((await lab.window(2 * MIN, 'legacy/batch', 'server/api')).share).toBe(1);
    },
  },
  {
    name: 'istio: STRICT on a server without a sidecar changes nothing (no proxy enforces it)',
    mesh: 'istio',
    source: 'peer_authentication.proto: policies are enforced by the server-side proxy',
    run: async (lab) => {
      await lab.mtls('server', 'STRICT');
      expect((await lab.window(2 * MIN, 'legacy/batch', 'server/api')).share).toBe(1);
    },
  },
  // --- Istio sidecar: authorization ---
  {
    name: 'istio: an ALLOW policy by namespace denies plaintext callers with 403 and admits meshed callers from that namespace',
    mesh: 'istio',
    source: 'authorization-policy reference: source.namespaces requires mTLS; no match → 403 RBAC: access denied',
    run: async (lab) => {
      await lab.mesh('server');
      await lab.mesh('client');
      await lab.apply({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'allow-client', namespace: 'server' }, spec: { action: 'ALLOW', rules: [{ from: [{ source: { namespaces: ['client'] } }] }] } });
      const start = lab.now;
      await lab.advance(2 * MIN);
      expect(lab.edge('client/caller', 'server/api', start, lab.now).share).toBe(1);
      expect(lab.edge('legacy/batch', 'server/api', start, lab.now).codes).toEqual({ '403': expect.any(Number) });
    },
  },
  {
    name: 'istio: a DENY policy wins over ALLOW',
    mesh: 'istio',
    source: 'authorization-policy reference: DENY policies are evaluated first',
    run: async (lab) => {
      await lab.mesh('server');
      await lab.mesh('client');
      await lab.apply({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'allow-all', namespace: 'server' }, spec: { action: 'ALLOW', rules: [{}] } });
      await lab.apply({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'deny-client', namespace: 'server' }, spec: { action: 'DENY', rules: [{ from: [{ source: { namespaces: ['client'] } }] }] } });
      expect((await lab.window(2 * MIN, 'client/caller', 'server/api')).codes).toEqual({ '403': expect.any(Number) });
    },
  },
  // --- Istio: faults and retries ---
  {
    name: 'istio: a VirtualService fault without a percentage faults nothing',
    mesh: 'istio',
    source: 'virtual_service.proto HTTPFaultInjection: "If percentage is omitted, no request is aborted"',
    run: async (lab) => {
      await lab.mesh('client');
      await lab.apply({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'api', namespace: 'server' }, spec: { hosts: ['api.server.svc.cluster.local'], http: [{ fault: { abort: { httpStatus: 503 } }, route: [{ destination: { host: 'api.server.svc.cluster.local' } }] }] } });
      expect((await lab.window(2 * MIN, 'client/caller', 'server/api')).share).toBe(1);
    },
  },
  {
    name: 'istio: an abort fault hits meshed clients at their proxy and never unmeshed clients',
    mesh: 'istio',
    source: 'mesh-facts §1.9: faults are applied by the client-side proxy',
    run: async (lab) => {
      await lab.mesh('client');
      await lab.apply({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'api', namespace: 'server' }, spec: { hosts: ['api.server.svc.cluster.local'], http: [{ fault: { abort: { httpStatus: 503, percentage: { value: 50 } } }, route: [{ destination: { host: 'api.server.svc.cluster.local' } }] }] } });
      const start = lab.now;
      await lab.advance(2 * MIN);
      expect(lab.edge('client/caller', 'server/api', start, lab.now).share).toBeCloseTo(0.5, 5);
      expect(lab.edge('legacy/batch', 'server/api', start, lab.now).share).toBe(1);
    },
  },
  {
    name: 'istio: a delay fault raises the meshed client\'s latency by the delay',
    mesh: 'istio',
    source: 'virtual_service.proto HTTPFaultInjection.Delay fixedDelay',
    run: async (lab) => {
      await lab.mesh('client');
      await lab.mesh('server');
      await lab.apply({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'api', namespace: 'server' }, spec: { hosts: ['api.server.svc.cluster.local'], http: [{ fault: { delay: { fixedDelay: '2s', percentage: { value: 100 } } }, route: [{ destination: { host: 'api.server.svc.cluster.local' } }] }] } });
      const start = lab.now;
      await lab.advance(2 * MIN);
      const match = { reporter: 'source', source_workload: 'caller' };
      const mean = lab.increase('istio_request_duration_milliseconds_sum', match, start) / lab.increase('istio_request_duration_milliseconds_count', match, start);
      expect(mean).toBeGreaterThan(2000);
      expect(mean).toBeLessThan(2100);
    },
  },
  {
    name: 'istio: retries on 5xx amplify requests to a failing server and hide part of its errors',
    mesh: 'istio',
    source: 'virtual_service.proto HTTPRetry attempts/retryOn; chaos.md retry budgets',
    run: async (lab) => {
      await lab.mesh('client');
      await lab.mesh('server');
      await lab.apply({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'api', namespace: 'server' }, spec: { hosts: ['api.server.svc.cluster.local'], http: [{ fault: { abort: { httpStatus: 503, percentage: { value: 10 } } }, retries: { attempts: 3, retryOn: '5xx' }, route: [{ destination: { host: 'api.server.svc.cluster.local' } }] }] } });
      const start = lab.now;
      await lab.window(2 * MIN, 'client/caller', 'server/api');
      expect(lab.increase('envoy_cluster_upstream_rq_retry', { namespace: 'client' }, start)).toBe(0);
      const stats = lab.edge('client/caller', 'server/api', start, lab.now);
      expect(stats.share).toBeCloseTo(0.9, 5);
    },
  },
  {
    name: 'istio: a per-try timeout below the tail retries the slow tries, and gives 504 when every try was slow',
    mesh: 'istio',
    source: 'virtual_service.proto HTTPRetry.perTryTimeout; Envoy router per_try_timeout (retried under 5xx/gateway-error, 504 when exhausted)',
    run: async (lab) => {
      await lab.mesh('client');
      await lab.mesh('server');
      await lab.apply({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'api', namespace: 'server' }, spec: { hosts: ['api.server.svc.cluster.local'], http: [{ retries: { attempts: 2, perTryTimeout: '15ms', retryOn: '5xx' }, route: [{ destination: { host: 'api.server.svc.cluster.local' } }] }] } });
      await lab.advance(MIN);
      const from = lab.now;
      const stats = await lab.window(5 * MIN, 'client/caller', 'server/api');
      const retries = lab.increase('envoy_cluster_upstream_rq_retry', { namespace: 'client' }, from);
      const requests = lab.increase('istio_requests_total', { reporter: 'source', source_workload: 'caller' }, from);
      // The api answers in 5 ms at the median, 25 ms at p99 (plus two proxy hops): a 15 ms try timeout cuts about one try in eight.
      expect(retries / requests).toBeGreaterThan(0.1);
      expect(retries / requests).toBeLessThan(1);
      expect(stats.codes['504']).toBeGreaterThan(0);
      expect(stats.share).toBeGreaterThan(0.99);
      expect(stats.share).toBeLessThan(1);
      // Unmeshed callers have no proxy to retry: their slow requests just arrive slowly.
      expect(lab.edge('legacy/batch', 'server/api', from, lab.now).share).toBe(1);
    },
  },
  // --- Istio: control-plane partition and loss ---
  {
    name: 'istio: running proxies stay Ready and serve while istiod is down',
    mesh: 'istio',
    source: 'pilot-agent ready/probe.go: readiness cached after the first config (atleastOnceReady)',
    run: async (lab) => {
      await lab.mesh('server');
      await lab.mesh('client');
      await scaleControlPlane(lab, 0);
      expect(lab.ready('server')).toBe(2);
      expect((await lab.window(10 * MIN, 'client/caller', 'server/api')).share).toBe(1);
    },
  },
  {
    name: 'istio: new proxies in a partitioned namespace never become Ready ("config not received from XDS server")',
    mesh: 'istio',
    source: 'pilot-agent ready/probe.go; mesh-facts §1.7',
    run: async (lab) => {
      await lab.mesh('server');
      await lab.apply(partition('server', 'istio-system'));
      await lab.restart('server');
      await lab.advance(MIN);
      const notReady = lab.pods('server').filter((p) => JSON.stringify(p.status).includes('config not received from XDS server'));
      expect(notReady.length).toBeGreaterThan(0);
    },
  },
  {
    name: 'istio: partitioned from istiod, existing traffic holds',
    mesh: 'istio',
    source: 'chaos.md §4 xDS loss: Envoy keeps the last config it received',
    run: async (lab) => {
      await lab.mesh('server');
      await lab.mesh('client');
      await lab.apply(partition('client', 'istio-system'));
      await lab.apply(partition('server', 'istio-system'));
      expect((await lab.window(30 * MIN, 'client/caller', 'server/api')).share).toBe(1);
    },
  },
  {
    name: 'istio: partitioned clients never learn a new endpoint; it gets no traffic from them',
    mesh: 'istio',
    source: 'chaos.md §4: new pods, rules and endpoints do not reach the proxies until istiod returns',
    run: async (lab) => {
      await lab.mesh('server');
      await lab.mesh('client');
      await lab.apply(partition('client', 'istio-system'));
      await lab.scale('server', 'api', 3);
      await lab.advance(MIN);
      const known = lab.proxies('client').map((p) => p.snapshot?.endpoints.get('server/api')?.length);
      const current = lab.lab.twin.currentSnapshot().endpoints.get('server/api')?.length;
      expect(current).toBe(3);
      expect(new Set(known)).toEqual(new Set([2]));
    },
  },
  {
    name: 'istio: a new AuthorizationPolicy is not enforced by a partitioned server until the partition heals',
    mesh: 'istio',
    source: 'chaos.md §4: rules do not reach proxies without istiod',
    run: async (lab) => {
      await lab.mesh('server');
      await lab.mesh('client');
      await lab.apply(partition('server', 'istio-system'));
      await lab.apply({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'deny-all', namespace: 'server' }, spec: { action: 'ALLOW' } });
      const during = await lab.window(2 * MIN, 'client/caller', 'server/api');
      await lab.lab.kube.delete('networking.k8s.io/v1', 'NetworkPolicy', 'server', 'meshdrill-partition');
      const after = await lab.window(2 * MIN, 'client/caller', 'server/api');
      expect(during.share).toBe(1);
      expect(after.codes).toEqual({ '403': expect.any(Number) });
    },
  },
  {
    name: 'istio: partitioned proxies report growing config age',
    mesh: 'istio',
    source: 'istioctl proxy-status STALE (istioctl/pkg/writer/pilot/status.go)',
    run: async (lab) => {
      await lab.mesh('server');
      await lab.apply(partition('server', 'istio-system'));
      await lab.advance(10 * MIN);
      // Envoy's cluster_manager.cds.update_time (ms since the epoch) stops at the partition.
      expect(lab.now - lab.lab.twin.metrics.gauge('envoy_cluster_manager_cds_update_time', { namespace: 'server' }, lab.now, 'min')).toBeGreaterThanOrEqual(590_000);
    },
  },
  {
    name: 'istio: CA lost just before renewal — no failures for ~12 h, then mTLS fails',
    mesh: 'istio',
    tickMs: 5 * MIN,
    source: 'secretcache.go rotateTime (ratio 0.5), 24 h DEFAULT_WORKLOAD_CERT_TTL; chaos.md §4 (derived ≈12 h)',
    run: async (lab) => {
      await lab.mesh('server');
      await lab.mesh('client');
      await lab.advance(11.9 * HOUR);
      await scaleControlPlane(lab, 0);
      const before = await lab.window(11.9 * HOUR, 'client/caller', 'server/api');
      await lab.advance(0.5 * HOUR);
      const after = await lab.window(1 * HOUR, 'client/caller', 'server/api');
      expect(before.share).toBe(1);
      expect(after.share).toBe(0);
    },
  },
  {
    name: 'istio: CA lost just after renewal — traffic holds for ~24 h',
    mesh: 'istio',
    tickMs: 5 * MIN,
    source: 'secretcache.go rotateTime; chaos.md §4: reach every pod by about 24 h',
    run: async (lab) => {
      await lab.mesh('server');
      await lab.mesh('client');
      await lab.advance(12.1 * HOUR);
      await scaleControlPlane(lab, 0);
      expect((await lab.window(23.5 * HOUR, 'client/caller', 'server/api')).share).toBe(1);
      await lab.advance(0.6 * HOUR);
      expect((await lab.window(1 * HOUR, 'client/caller', 'server/api')).share).toBe(0);
    },
  },
  {
    name: 'istio: short certificate lifetimes compress the timeline (1 h TTL fails within 1 h)',
    mesh: 'istio',
    certLifetimeMs: HOUR,
    tickMs: MIN,
    source: 'SECRET_TTL proxy metadata (mesh-facts §1.6: shorten it to watch renewal failure)',
    run: async (lab) => {
      await lab.mesh('server');
      await lab.mesh('client');
      await scaleControlPlane(lab, 0);
      expect((await lab.window(65 * MIN, 'client/caller', 'server/api')).share).toBeLessThan(1);
      expect(lab.lab.twin.metrics.gauge('istio_agent_cert_expiry_seconds', { namespace: 'server' }, lab.now, 'min')).toBeLessThan(0);
    },
  },
  {
    name: 'istio: an incomplete cacerts keeps istiod from starting',
    mesh: 'istio',
    source: 'istio_ca.go: "failed to create an istiod CA: incomplete signing CA bundle detected"',
    run: async (lab) => {
      const cacerts = await lab.lab.kube.get('v1', 'Secret', 'istio-system', 'cacerts');
      const data = { ...(cacerts!['data'] as Record<string, string>) };
      delete data['cert-chain.pem'];
      await lab.lab.kube.delete('v1', 'Secret', 'istio-system', 'cacerts');
      await lab.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cacerts', namespace: 'istio-system' }, data });
      await lab.lab.kube.delete('apps/v1', 'Deployment', 'istio-system', 'istiod');
      const { IstioAdapter } = await import('../meshes/istio.js');
      const istiod = (await new IstioAdapter().installManifests()).find((o) => o.kind === 'Deployment')!;
      await lab.apply(istiod);
      await lab.advance(2 * MIN);
      expect(lab.ready('istio-system')).toBe(0);
    },
  },
  {
    name: 'istio: deleting the self-signed istio-ca-secret changes nothing while istiod runs',
    mesh: 'istio',
    source: 'selfsignedcarootcertrotator.go: "Fail to load CA secret … skip cert rotation job"',
    run: async (lab) => {
      await lab.lab.kube.delete('v1', 'Secret', 'istio-system', 'cacerts');
      await lab.advance(MIN);
      await lab.mesh('server');
      await lab.mesh('client');
      await lab.lab.kube.delete('v1', 'Secret', 'istio-system', 'istio-ca-secret');
      await lab.restart('server');
      expect((await lab.window(5 * MIN, 'client/caller', 'server/api')).share).toBe(1);
    },
  },
  {
    name: 'istio: a cacerts with another root splits trust — restarted pods cannot talk to the old ones',
    mesh: 'istio',
    source: 'istio/istio#36723 (x509: certificate signed by unknown authority), #30946',
    run: async (lab) => {
      await lab.mesh('server');
      await lab.mesh('client');
      await newIstioRoot(lab);
      await lab.restart('server');
      await lab.advance(MIN);
      expect((await lab.window(5 * MIN, 'client/caller', 'server/api')).share).toBe(0);
    },
  },
  // --- Istio ambient ---
  {
    name: 'ambient: labelling a namespace captures its pods at once, without a restart',
    mesh: 'istio',
    mode: 'ambient',
    source: 'ambient add-workloads: "no restart needed"',
    run: async (lab) => {
      const before = lab.pods('server').map((p) => p.metadata.uid);
      await lab.mesh('server', false);
      expect(lab.proxies('server').map((p) => p.kind)).toEqual(['ambient', 'ambient']);
      expect(lab.pods('server').map((p) => p.metadata.uid)).toEqual(before);
    },
  },
  {
    name: 'ambient: proxy memory is one ztunnel per node (~12 MB), none per pod',
    mesh: 'istio',
    mode: 'ambient',
    source: 'istio.io performance-and-scalability (1.24): a ztunnel uses about 12 MB at 1,000 rps; ambient runs no sidecar',
    run: async (lab) => {
      await lab.mesh('server', false);
      await lab.advance(30_000);
      const metrics = lab.lab.twin.metrics;
      const ztunnels = lab.pods('istio-system').filter((p) => p.metadata.labels?.['app'] === 'ztunnel');
      expect(ztunnels.length).toBeGreaterThan(1);
      expect(metrics.count('container_memory_working_set_bytes', { container: 'ztunnel' })).toBe(ztunnels.length);
      expect(metrics.gauge('container_memory_working_set_bytes', { container: 'ztunnel' }, lab.now, 'max')).toBe(12 * 1_048_576);
      expect(metrics.count('container_memory_working_set_bytes', { namespace: 'server' })).toBe(0);
    },
  },
  {
    name: 'ambient: without a waypoint there are only istio_tcp_* metrics, no istio_requests_total',
    mesh: 'istio',
    mode: 'ambient',
    source: 'mesh-facts §1.8: ztunnel emits only L4 metrics (istio/ztunnel src/proxy/metrics.rs)',
    run: async (lab) => {
      await lab.mesh('server', false);
      await lab.mesh('client', false);
      const start = lab.now;
      await lab.advance(2 * MIN);
      expect(lab.increase('istio_tcp_connections_opened_total', { destination_workload_namespace: 'server' }, start)).toBeGreaterThan(0);
      expect(lab.increase('istio_requests_total', {}, start)).toBe(0);
    },
  },
  {
    name: 'ambient: STRICT denies plaintext from outside the mesh at the destination ztunnel',
    mesh: 'istio',
    mode: 'ambient',
    source: 'ambient add-workloads: STRICT blocks connections that bypass the mesh',
    run: async (lab) => {
      await lab.mesh('server', false);
      await lab.mtls('server', 'STRICT');
      expect((await lab.window(2 * MIN, 'legacy/batch', 'server/api')).share).toBe(0);
    },
  },
  {
    name: 'ambient: CA loss fails mTLS at once, not at expiry',
    mesh: 'istio',
    mode: 'ambient',
    source: 'chaos.md §4 (ztunnel drops certificates it cannot renew)',
    run: async (lab) => {
      await lab.mesh('server', false);
      await lab.mesh('client', false);
      await scaleControlPlane(lab, 0);
      expect((await lab.window(2 * MIN, 'client/caller', 'server/api')).share).toBe(0);
    },
  },
  // --- Linkerd ---
  {
    name: 'linkerd: meshing needs the linkerd.io/inject annotation and a restart',
    mesh: 'linkerd',
    source: 'linkerd adding-your-service.md',
    run: async (lab) => {
      await lab.mesh('server', false);
      expect(lab.proxies('server')).toHaveLength(0);
      await lab.restart('server');
      expect(lab.proxies('server').map((p) => p.kind)).toEqual(['linkerd', 'linkerd']);
    },
  },
  {
    name: 'linkerd: the default inbound policy (all-unauthenticated) accepts plaintext',
    mesh: 'linkerd',
    source: 'linkerd values.yaml proxy.defaultInboundPolicy',
    run: async (lab) => {
      await lab.mesh('server');
      expect((await lab.window(2 * MIN, 'legacy/batch', 'server/api')).share).toBe(1);
    },
  },
  {
    name: 'linkerd: a Server with a MeshTLSAuthentication policy denies plaintext with 403, counted by the server proxy',
    mesh: 'linkerd',
    source: 'linkerd authorization-policy.md; server-policy.md "Policy rejections" (HTTP 403)',
    run: async (lab) => {
      await lab.mesh('server');
      await lab.mtls('server', 'STRICT');
      const start = lab.now;
      const seen = await lab.window(2 * MIN, 'legacy/batch', 'server/api');
      expect(seen.codes).toEqual({ '403': expect.any(Number) });
      // Every plaintext caller (legacy and the still unmeshed client namespace) is denied and counted.
      const denied = ['legacy/batch', 'client/caller', 'client/rare'].reduce((n, from) => n + (lab.edge(from, 'server/api', start, lab.now).codes['403'] ?? 0), 0);
      expect(lab.increase('inbound_http_authz_deny_total', { namespace: 'server' }, start)).toBeCloseTo(denied, 5);
    },
  },
  {
    name: 'linkerd: the same policy admits meshed clients over mTLS (tls="true")',
    mesh: 'linkerd',
    source: 'linkerd authorization-policy.md; proxy-metrics.md tls label',
    run: async (lab) => {
      await lab.mesh('server');
      await lab.mesh('client');
      await lab.mtls('server', 'STRICT');
      const start = lab.now;
      expect((await lab.window(2 * MIN, 'client/caller', 'server/api')).share).toBe(1);
      expect(lab.increase('request_total', { direction: 'inbound', namespace: 'server', tls: 'true' }, start)).toBeGreaterThan(0);
    },
  },
  {
    name: 'linkerd: the default-inbound-policy annotation applies only to proxies started after it',
    mesh: 'linkerd',
    source: 'linkerd server-policy.md: the default policy is fixed at proxy start',
    run: async (lab) => {
      await lab.mesh('server');
      await lab.lab.kube.mergePatch('v1', 'Namespace', undefined, 'server', { metadata: { annotations: { 'config.linkerd.io/default-inbound-policy': 'all-authenticated' } } });
      const before = await lab.window(2 * MIN, 'legacy/batch', 'server/api');
      await lab.restart('server');
      const after = await lab.window(2 * MIN, 'legacy/batch', 'server/api');
      expect(before.share).toBe(1);
      expect(after.codes).toEqual({ '403': expect.any(Number) });
    },
  },
  {
    name: 'linkerd: with the injector down, new pods start without a proxy, silently (failurePolicy Ignore)',
    mesh: 'linkerd',
    source: 'linkerd values.yaml webhookFailurePolicy: Ignore; mesh-facts §2.2',
    run: async (lab) => {
      await lab.lab.kube.mergePatch('apps/v1', 'Deployment', 'linkerd', 'linkerd-proxy-injector', { spec: { replicas: 0 } });
      await lab.advance(5_000);
      await lab.mesh('server');
      expect(lab.proxies('server')).toHaveLength(0);
      expect(lab.ready('server')).toBe(2);
    },
  },
  {
    name: 'linkerd: identity lost just before refresh — failures after ≈7 h',
    mesh: 'linkerd',
    tickMs: 5 * MIN,
    source: 'linkerd2-proxy certify.rs (refresh at 70 % of lifetime); 24 h issuanceLifetime',
    run: async (lab) => {
      await lab.mesh('server');
      await lab.mesh('client');
      await lab.advance(16.7 * HOUR);
      await scaleControlPlane(lab, 0);
      expect((await lab.window(7 * HOUR, 'client/caller', 'server/api')).share).toBe(1);
      await lab.advance(0.5 * HOUR);
      expect((await lab.window(1 * HOUR, 'client/caller', 'server/api')).share).toBe(0);
    },
  },
  {
    name: 'linkerd: an issuer that expires signs no leaf past its own notAfter, and nothing after it: meshed calls fail once the leaves run out',
    mesh: 'linkerd',
    tickMs: 5 * MIN,
    source: 'linkerd2#3893 (leaves expire at or before the issuer, from #3880); #3779 (no signing with an expired issuer); #15109 (issuer past NotAfter: "failing to issue child certificates", connectivity degraded)',
    run: async (lab) => {
      // An anchor and an issuer that lives 3 h (a rotation that never happened), in place before meshing.
      const { issuerPem } = await newLinkerdRoot(lab, { now: new Date(lab.now), issuerLifetimeMs: 3 * HOUR });
      await lab.advance(MIN);
      await lab.mesh('server');
      await lab.mesh('client');
      const issuerEnds = Date.parse(new X509Certificate(issuerPem).validTo);
      for (const proxy of lab.proxies('server')) expect(proxy.cert!.expiresAt).toBeLessThanOrEqual(issuerEnds);
      expect((await lab.window(2 * HOUR, 'client/caller', 'server/api')).share).toBe(1);
      await lab.advance(1.5 * HOUR);
      expect((await lab.window(HOUR, 'client/caller', 'server/api')).share).toBe(0);
      // A pod started now gets no identity at all.
      await lab.restart('server');
      expect(lab.ready('server')).toBeLessThan(lab.pods('server').length);
    },
  },
  {
    name: 'linkerd: an expired trust anchor fails every meshed handshake, though the leaves are valid; plaintext callers carry on',
    mesh: 'linkerd',
    tickMs: 5 * MIN,
    source: 'linkerd2#3676 (after the trust root expired, an injected client could not reach an injected service: 503; an uninjected one still could)',
    run: async (lab) => {
      await newLinkerdRoot(lab, { now: new Date(lab.now), anchorLifetimeMs: 2 * HOUR });
      await meshedCallsEndWithTheRoot(lab);
    },
  },
  {
    name: 'istio: a plugged-in root that expires fails mTLS between sidecars; plaintext callers carry on',
    mesh: 'istio',
    tickMs: 5 * MIN,
    source: 'istio.io docs/ops/configuration/security/root-transition: when the root certificate expires, mTLS between workloads fails until the root is replaced',
    run: async (lab) => {
      const { createRootCa, istioCacerts } = await import('../meshes/pki/index.js');
      const root = await createRootCa({ commonName: 'Root CA', lifetimeMs: 2 * HOUR, now: new Date(lab.now) });
      const { files } = await istioCacerts({ root, now: new Date(lab.now), intermediateLifetimeMs: HOUR * 2 });
      await lab.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cacerts', namespace: 'istio-system' }, stringData: { ...files } });
      await meshedCallsEndWithTheRoot(lab);
    },
  },
  {
    name: 'linkerd: with identity down, newly injected pods never become Ready',
    mesh: 'linkerd',
    source: 'linkerd FAQ: new proxies cannot operate without the control plane',
    run: async (lab) => {
      await scaleControlPlane(lab, 0);
      await lab.mesh('server');
      await lab.advance(MIN);
      // The rollout surges one injected pod, which never gets an identity; the old pods keep serving.
      const injected = lab.proxies('server').map((p) => p.pod);
      const readyInjected = lab.pods('server').filter((p) => injected.includes(p.metadata.name) && JSON.stringify(p.status).includes('"type":"Ready","status":"True"'));
      expect(injected.length).toBeGreaterThan(0);
      expect(readyInjected).toEqual([]);
    },
  },
  {
    name: 'linkerd: destination unreachable — a caller silent for more than 5 s fails, a busy caller holds',
    mesh: 'linkerd',
    source: 'linkerd configuring-proxy-discovery-cache.md: outboundDiscoveryCacheUnusedTimeout 5s',
    run: async (lab) => {
      await lab.mesh('server');
      await lab.mesh('client');
      await lab.apply(partition('client', 'linkerd'));
      const start = lab.now;
      await lab.advance(5 * MIN);
      expect(lab.edge('client/caller', 'server/api', start, lab.now).share).toBe(1);
      expect(lab.edge('client/rare', 'server/api', start, lab.now).share).toBe(0);
    },
  },
  {
    name: 'linkerd: the trust anchor is fixed at injection — pods injected with a new anchor cannot talk to old ones',
    mesh: 'linkerd',
    source: 'linkerd _proxy.tpl LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS; mesh-facts §2.1',
    run: async (lab) => {
      await lab.mesh('server');
      await lab.mesh('client');
      await newLinkerdRoot(lab);
      await lab.restart('server');
      await lab.advance(MIN);
      expect((await lab.window(2 * MIN, 'client/caller', 'server/api')).codes).toEqual({ '502': expect.any(Number) });
    },
  },
  {
    name: 'linkerd: anchor and issuer replaced together without overlap — nothing restarts, mTLS fails as proxies renew',
    mesh: 'linkerd',
    tickMs: 5 * MIN,
    source: 'linkerd identity service.go hot-reloads the issuer; trust anchors fixed at injection (_proxy.tpl); refresh at 70 % (mesh-facts §2.1, chaos.md §4)',
    run: async (lab) => {
      await lab.mesh('server');
      await lab.mesh('client');
      await newLinkerdRoot(lab);
      // The old certificates still chain to the anchor every proxy holds, until the first refresh
      // (70 % of 24 h ≈ 16.8 h) hands out certificates under the new anchor.
      expect((await lab.window(16 * HOUR, 'client/caller', 'server/api')).share).toBe(1);
      await lab.advance(2 * HOUR);
      expect((await lab.window(HOUR, 'client/caller', 'server/api')).share).toBe(0);
    },
  },
  {
    name: 'istio: cacerts replaced by another root without overlap — nothing restarts, traffic fails once sidecars must renew',
    mesh: 'istio',
    tickMs: 5 * MIN,
    source: 'istio/istio#36723: old sidecars cannot reach istiod (x509: certificate signed by unknown authority); renewal at 50 % of 24 h (secretcache.go)',
    run: async (lab) => {
      await lab.mesh('server');
      await lab.mesh('client');
      await newIstioRoot(lab);
      expect((await lab.window(11 * HOUR, 'client/caller', 'server/api')).share).toBe(1);
      await lab.advance(14 * HOUR);
      expect((await lab.window(HOUR, 'client/caller', 'server/api')).share).toBe(0);
    },
  },
  {
    name: 'linkerd: retry.linkerd.io/http on the Service retries 5xx once by default at meshed clients; unmeshed clients see every failure',
    mesh: 'linkerd',
    serverErrorRate: '20%',
    source: 'linkerd.io/2/reference/retries: retry.linkerd.io/http, retry.linkerd.io/limit (default 1); retries are the outbound proxy\'s',
    run: async (lab) => {
      await lab.mesh('client');
      await lab.mesh('server');
      const before = await lab.window(2 * MIN, 'client/caller', 'server/api');
      await lab.lab.kube.mergePatch('v1', 'Service', 'server', 'api', { metadata: { annotations: { 'retry.linkerd.io/http': '500-504' } } });
      await lab.advance(MIN);
      const start = lab.now;
      const meshed = await lab.window(5 * MIN, 'client/caller', 'server/api');
      const legacy = lab.edge('legacy/batch', 'server/api', start, lab.now);
      const retries = lab.increase('outbound_http_route_retry_requests_total', { namespace: 'client', deployment: 'caller' }, start);
      const requests = lab.increase('outbound_http_route_request_statuses_total', { namespace: 'client', deployment: 'caller' }, start);
      expect(before.share).toBeCloseTo(0.8, 5);
      expect(meshed.share).toBeCloseTo(1 - 0.2 ** 2, 5);
      expect(legacy.share).toBeCloseTo(0.8, 5);
      expect(retries / requests).toBeCloseTo(0.2, 5);
    },
  },
  {
    name: 'linkerd: retry.linkerd.io/limit raises the retries per request; statuses not listed are not retried',
    mesh: 'linkerd',
    serverErrorRate: '20%',
    source: 'linkerd.io/2/reference/retries: retry.linkerd.io/limit; the status list decides what is retried',
    run: async (lab) => {
      await lab.mesh('client');
      await lab.mesh('server');
      const annotate = async (annotations: Record<string, string | null>) => {
        await lab.lab.kube.mergePatch('v1', 'Service', 'server', 'api', { metadata: { annotations } });
        await lab.advance(MIN);
      };
      await annotate({ 'retry.linkerd.io/http': '5xx', 'retry.linkerd.io/limit': '3' });
      const three = await lab.window(5 * MIN, 'client/caller', 'server/api');
      await annotate({ 'retry.linkerd.io/http': '503', 'retry.linkerd.io/limit': null });
      const start = lab.now;
      const unlisted = await lab.window(5 * MIN, 'client/caller', 'server/api');
      expect(three.share).toBeCloseTo(1 - 0.2 ** 4, 5);
      expect(unlisted.share).toBeCloseTo(0.8, 5);
      expect(lab.increase('outbound_http_route_retry_requests_total', { namespace: 'client' }, start)).toBe(0);
    },
  },
  {
    name: 'linkerd: an issuer that does not chain to the trust anchor is skipped; certificates keep coming',
    mesh: 'linkerd',
    source: 'linkerd pkg/identity/service.go IssuerUpdateSkipped',
    run: async (lab) => {
      await lab.mesh('server');
      await lab.mesh('client');
      const { linkerdIdentity } = await import('../meshes/pki/index.js');
      const { issuer } = await linkerdIdentity();
      await lab.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'linkerd-identity-issuer', namespace: 'linkerd' }, stringData: { 'crt.pem': issuer.certPem, 'key.pem': issuer.keyPem } });
      await lab.restart('server');
      expect((await lab.window(2 * MIN, 'client/caller', 'server/api')).share).toBe(1);
    },
  },
];

describe('mesh twin behaviour: the table', () => {
  it('has at least 40 documented cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
    expect(CASES.every((c) => c.source.length > 10)).toBe(true);
  });
});

behaviourTable('mesh twin behaviour', CASES);
