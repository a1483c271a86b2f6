import { expect } from 'vitest';
import type { KubeObject } from '../clusters/kube/types.js';
import { Topology } from '../model/topology.js';
import { behaviourTable, type BehaviourCase } from './helpers/behaviour-table.js';
import { MICRO, type Lab } from './helpers/twin-lab.js';

// Plain TCP through the meshes: a service that speaks no HTTP, and Linkerd's opaque ports. The
// proxies still do mTLS and authorize connections; they report connections, not requests, and no
// HTTP route, retry or HTTP-only policy field applies.

const MIN = 60_000;
/** server/api speaks TCP (a database, a queue). */
const TCP = Topology.parse({ ...MICRO, spec: { ...MICRO.spec, namespaces: MICRO.spec.namespaces.map((n) => (n.name !== 'server' ? n : { ...n, services: n.services.map((s) => ({ ...s, protocol: 'tcp' as const })) })) } });
/** server/api listens on Postgres's port, one of Linkerd's default opaque ports. */
const POSTGRES_PORT = Topology.parse({ ...MICRO, spec: { ...MICRO.spec, namespaces: MICRO.spec.namespaces.map((n) => (n.name !== 'server' ? n : { ...n, services: n.services.map((s) => ({ ...s, ports: [{ name: 'tcp-postgres', port: 5432 }] })) })) } });

async function meshAll(lab: Lab): Promise<void> {
  await lab.mesh('server');
  await lab.mesh('client');
}

/** What the caller's proxy and the server's proxy reported for client/caller → server/api in the last window. */
async function reported(lab: Lab) {
  const start = lab.now;
  const seen = await lab.window(2 * MIN, 'client/caller', 'server/api');
  return {
    share: seen.share,
    http: lab.increase('istio_requests_total', { source_workload: 'caller', destination_service_name: 'api' }, start) + lab.increase('response_total', { deployment: 'caller', dst_deployment: 'api' }, start),
    tcpMtls: lab.increase('istio_tcp_connections_opened_total', { reporter: 'destination', source_workload: 'caller', destination_service_name: 'api', connection_security_policy: 'mutual_tls' }, start) + lab.increase('tcp_open_total', { direction: 'inbound', deployment: 'api', tls: 'true', client_id: 'caller.client.serviceaccount.identity.linkerd.cluster.local' }, start),
  };
}

const AP = (spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'api', namespace: 'server' }, spec: { selector: { matchLabels: { app: 'api' } }, ...spec } });

const CASES: BehaviourCase[] = [
  {
    name: 'istio: a TCP service is reported as connections over mTLS (istio_tcp_connections_opened_total), with no request metrics',
    mesh: 'istio',
    topology: TCP,
    source: 'istio.io reference/config/metrics: TCP metrics (istio_tcp_connections_opened_total) for TCP traffic; request metrics are HTTP/gRPC only',
    run: async (lab) => {
      await meshAll(lab);
      const r = await reported(lab);
      expect(r.share).toBe(1);
      expect(r.http).toBe(0);
      expect(r.tcpMtls).toBeGreaterThan(0);
    },
  },
  {
    name: 'istio: on TCP an ALLOW rule with HTTP-only fields matches nothing: the connection is denied',
    mesh: 'istio',
    topology: TCP,
    source: 'istio.io tasks/security/authorization/authz-tcp: HTTP-only fields in an ALLOW rule for TCP traffic make the rule match nothing',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(AP({ action: 'ALLOW', rules: [{ from: [{ source: { namespaces: ['client'] } }], to: [{ operation: { methods: ['GET'] } }] }] }));
      await lab.advance(10_000);
      expect((await reported(lab)).share).toBe(0);
    },
  },
  {
    name: 'istio: on TCP a DENY rule loses its HTTP-only fields and denies more',
    mesh: 'istio',
    topology: TCP,
    source: 'istio.io tasks/security/authorization/authz-tcp: for a DENY policy the HTTP-only fields are ignored, so it is more restrictive',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(AP({ action: 'DENY', rules: [{ from: [{ source: { namespaces: ['client'] } }], to: [{ operation: { paths: ['/admin*'] } }] }] }));
      await lab.advance(10_000);
      expect((await reported(lab)).share).toBe(0);
    },
  },
  {
    name: 'istio: a Service port named tcp-… is carried as TCP even when HTTP flows over it: no request metrics, no HTTP routes',
    mesh: 'istio',
    source: 'istio.io ops/configuration/traffic-management/protocol-selection: the port name <protocol>[-suffix] (or appProtocol) selects the protocol explicitly',
    run: async (lab) => {
      await meshAll(lab);
      await lab.lab.kube.mergePatch('v1', 'Service', 'server', 'api', { spec: { ports: [{ name: 'tcp-api', port: 8080, targetPort: 8080, protocol: 'TCP' }] } });
      // A fault route that would abort every HTTP request: on a TCP port it never applies.
      await lab.apply({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'api', namespace: 'server' }, spec: { hosts: ['api.server.svc.cluster.local'], http: [{ fault: { abort: { httpStatus: 503, percentage: { value: 100 } } }, route: [{ destination: { host: 'api.server.svc.cluster.local' } }] }] } });
      await lab.advance(10_000);
      const r = await reported(lab);
      expect(r.share).toBe(1);
      expect(r.http).toBe(0);
      expect(r.tcpMtls).toBeGreaterThan(0);
    },
  },
  {
    name: 'linkerd: a Service annotated config.linkerd.io/opaque-ports is proxied as TCP: mTLS and tcp_open_total, no response_total',
    mesh: 'linkerd',
    source: 'linkerd.io features/protocol-detection: opaque ports get no HTTP metrics or routing, mTLS and byte-level metrics still apply',
    run: async (lab) => {
      await meshAll(lab);
      await lab.lab.kube.mergePatch('v1', 'Service', 'server', 'api', { metadata: { annotations: { 'config.linkerd.io/opaque-ports': '8080' } } });
      await lab.advance(10_000);
      const r = await reported(lab);
      expect(r.share).toBe(1);
      expect(r.http).toBe(0);
      expect(r.tcpMtls).toBeGreaterThan(0);
    },
  },
  {
    name: 'linkerd: Postgres\'s port is opaque by default',
    mesh: 'linkerd',
    topology: POSTGRES_PORT,
    source: 'linkerd.io features/protocol-detection: default opaque ports 25, 587, 3306, 4444, 5432, 6379, 9300, 11211',
    run: async (lab) => {
      await meshAll(lab);
      const r = await reported(lab);
      expect(r.http).toBe(0);
      expect(r.tcpMtls).toBeGreaterThan(0);
    },
  },
  {
    name: 'linkerd: an HTTP port stays HTTP: response_total, not tcp_open_total',
    mesh: 'linkerd',
    source: 'linkerd.io features/protocol-detection: HTTP detected on a port that is not opaque gets HTTP metrics',
    run: async (lab) => {
      await meshAll(lab);
      const r = await reported(lab);
      expect(r.http).toBeGreaterThan(0);
      expect(r.tcpMtls).toBe(0);
    },
  },
];

behaviourTable('mesh twin: plain TCP and opaque ports', CASES);
