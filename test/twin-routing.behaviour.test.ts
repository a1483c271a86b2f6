import { expect } from 'vitest';
import type { KubeObject } from '../clusters/kube/types.js';
import { EmbeddedSource } from '../slo/index.js';
import { behaviourTable, type BehaviourCase } from './helpers/behaviour-table.js';
import { Topology } from '../model/topology.js';
import { MICRO, SLOW, WITH_REQUESTS, WITH_VERSIONS, type Lab } from './helpers/twin-lab.js';

// Istio routing (VirtualService) and destination policy (DestinationRule), through the embedded
// cluster: objects applied with the Kubernetes API, the topology's traffic, the callers' metrics.
// Most cases use WITH_VERSIONS: server/api runs v1 (two healthy pods) and v2 (one pod that fails
// every request), so a route's share to v2 shows in the callers' success.

const MIN = 60_000;
const HOST = 'api.server.svc.cluster.local';
const VS = (name: string, namespace: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name, namespace }, spec });
const DR = (name: string, namespace: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name, namespace }, spec });
const SUBSETS = { subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] };
const to = (subset?: string, weight?: number) => ({ destination: { host: HOST, ...(subset ? { subset } : {}) }, ...(weight !== undefined ? { weight } : {}) });

async function meshAll(lab: Lab): Promise<void> {
  await lab.mesh('server');
  await lab.mesh('client');
}

async function apply(lab: Lab, ...objects: KubeObject[]): Promise<void> {
  for (const o of objects) await lab.apply(o);
  await lab.advance(10_000);
}

const callerToApi = (lab: Lab, ms = 2 * MIN) => lab.window(ms, 'client/caller', 'server/api');

const ROUTING: BehaviourCase[] = [
  {
    name: 'istio: without a route, requests spread over every pod, the failing v2 pod included',
    mesh: 'istio',
    topology: WITH_VERSIONS,
    source: 'istio.io concepts/traffic-management: with no rules, Envoy balances across all endpoints (round robin)',
    run: async (lab) => {
      await meshAll(lab);
      expect((await callerToApi(lab)).share).toBeCloseTo(2 / 3, 5);
    },
  },
  {
    name: 'istio: a route to subset v1 sends nothing to v2',
    mesh: 'istio',
    topology: WITH_VERSIONS,
    source: 'istio.io tasks/traffic-management/request-routing: "route all traffic to v1"',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, DR('api', 'server', { host: HOST, ...SUBSETS }), VS('api', 'server', { hosts: [HOST], http: [{ route: [to('v1')] }] }));
      expect((await callerToApi(lab)).share).toBe(1);
    },
  },
  {
    name: 'istio: weights split the requests between subsets',
    mesh: 'istio',
    topology: WITH_VERSIONS,
    source: 'istio.io tasks/traffic-management/traffic-shifting: weighted route destinations',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, DR('api', 'server', { host: HOST, ...SUBSETS }), VS('api', 'server', { hosts: [HOST], http: [{ route: [to('v1', 80), to('v2', 20)] }] }));
      expect((await callerToApi(lab)).share).toBeCloseTo(0.8, 5);
    },
  },
  {
    name: 'istio: a subset no DestinationRule defines answers 503 (no cluster)',
    mesh: 'istio',
    topology: WITH_VERSIONS,
    source: 'istio.io ops/common-problems/network-issues: "503 errors after setting destination rule" (subset not found: NC)',
    run: async (lab) => {
      await meshAll(lab);
      const start = lab.now;
      await apply(lab, VS('api', 'server', { hosts: [HOST], http: [{ route: [to('v1')] }] }));
      const seen = await callerToApi(lab);
      expect(Object.keys(seen.codes)).toEqual(['503']);
      expect(lab.increase('istio_requests_total', { reporter: 'source', response_flags: 'NC' }, start)).toBeGreaterThan(0);
    },
  },
  {
    name: 'istio: a header match routes only the requests that carry the header',
    mesh: 'istio',
    topology: WITH_VERSIONS,
    source: 'istio.io tasks/traffic-management/request-routing "Route based on user identity" (headers end-user exact jason)',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, DR('api', 'server', { host: HOST, ...SUBSETS }), VS('api', 'server', { hosts: [HOST], http: [{ match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: [to('v2')] }, { route: [to('v1')] }] }));
      expect((await callerToApi(lab)).share).toBeCloseTo(0.9, 5);
    },
  },
  {
    name: 'istio: an abort fault for one user hits only that user\'s requests',
    mesh: 'istio',
    topology: WITH_REQUESTS,
    source: 'istio.io tasks/traffic-management/fault-injection "Injecting an HTTP abort fault" (match end-user jason)',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, VS('api', 'server', { hosts: [HOST], http: [{ match: [{ headers: { 'end-user': { exact: 'jason' } } }], fault: { abort: { httpStatus: 500, percentage: { value: 100 } } }, route: [to()] }, { route: [to()] }] }));
      const seen = await callerToApi(lab);
      expect(seen.share).toBeCloseTo(0.9, 5);
      expect(seen.codes['500']! / seen.total).toBeCloseTo(0.1, 5);
    },
  },
  {
    name: 'istio: a uri prefix match routes the admin requests elsewhere',
    mesh: 'istio',
    topology: WITH_VERSIONS,
    source: 'virtual-service reference HTTPMatchRequest.uri (exact, prefix, regex)',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, DR('api', 'server', { host: HOST, ...SUBSETS }), VS('api', 'server', { hosts: [HOST], http: [{ match: [{ uri: { prefix: '/admin' } }], route: [to('v2')] }, { route: [to('v1')] }] }));
      expect((await callerToApi(lab)).share).toBeCloseTo(0.9, 5);
    },
  },
  {
    name: 'istio: a method match with a regex routes DELETE requests',
    mesh: 'istio',
    topology: WITH_VERSIONS,
    source: 'virtual-service reference HTTPMatchRequest.method (StringMatch: exact, prefix, regex)',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, DR('api', 'server', { host: HOST, ...SUBSETS }), VS('api', 'server', { hosts: [HOST], http: [{ match: [{ method: { regex: 'DEL.*' } }], route: [to('v2')] }, { route: [to('v1')] }] }));
      expect((await callerToApi(lab)).share).toBeCloseTo(0.9, 5);
    },
  },
  {
    name: 'istio: when no http route matches, the client\'s proxy answers 404 (no route)',
    mesh: 'istio',
    topology: WITH_REQUESTS,
    source: 'Envoy router: no matching route gives 404 with response flag NR; virtual-service reference (routes evaluated in order)',
    run: async (lab) => {
      await meshAll(lab);
      const start = lab.now;
      await apply(lab, VS('api', 'server', { hosts: [HOST], http: [{ match: [{ uri: { exact: '/nothing' } }], route: [to()] }] }));
      expect(Object.keys((await callerToApi(lab)).codes)).toEqual(['404']);
      expect(lab.increase('istio_requests_total', { reporter: 'source', response_code: '404', response_flags: 'NR' }, start)).toBeGreaterThan(0);
    },
  },
  {
    name: 'istio: routes are evaluated in order: the first match wins',
    mesh: 'istio',
    topology: WITH_VERSIONS,
    source: 'virtual-service reference VirtualService.http: "the first rule matching an incoming request is used"',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, DR('api', 'server', { host: HOST, ...SUBSETS }), VS('api', 'server', { hosts: [HOST], http: [{ route: [to('v1')] }, { match: [{ uri: { prefix: '/admin' } }], route: [to('v2')] }] }));
      expect((await callerToApi(lab)).share).toBe(1);
    },
  },
  {
    name: 'istio: sourceLabels limit a route to the callers that carry them',
    mesh: 'istio',
    topology: WITH_VERSIONS,
    source: 'virtual-service reference HTTPMatchRequest.sourceLabels',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, DR('api', 'server', { host: HOST, ...SUBSETS }), VS('api', 'server', { hosts: [HOST], http: [{ match: [{ sourceLabels: { app: 'caller' } }], route: [to('v1')] }, { route: [to('v2')] }] }));
      expect((await callerToApi(lab)).share).toBe(1);
      expect((await lab.window(10 * MIN, 'client/rare', 'server/api')).share).toBe(0);
    },
  },
  {
    name: 'istio: sourceNamespace limits a route to callers of that namespace',
    mesh: 'istio',
    topology: WITH_VERSIONS,
    source: 'virtual-service reference HTTPMatchRequest.sourceNamespace',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, DR('api', 'server', { host: HOST, ...SUBSETS }), VS('api', 'server', { hosts: [HOST], http: [{ match: [{ sourceNamespace: 'elsewhere' }], route: [to('v1')] }, { route: [to('v2')] }] }));
      expect((await callerToApi(lab)).share).toBe(0);
    },
  },
  {
    name: 'istio: a route timeout ends slow requests with 504 UT',
    mesh: 'istio',
    topology: SLOW,
    source: 'virtual-service reference HTTPRoute.timeout; Envoy response flag UT (upstream request timeout)',
    run: async (lab) => {
      await meshAll(lab);
      const start = lab.now;
      await apply(lab, VS('api', 'server', { hosts: [HOST], http: [{ timeout: '300ms', route: [to()] }] }));
      const seen = await callerToApi(lab);
      expect(seen.codes['504']).toBeGreaterThan(0);
      expect(seen.share).toBeGreaterThan(0.5);
      expect(seen.share).toBeLessThan(0.95);
      expect(lab.increase('istio_requests_total', { reporter: 'source', response_code: '504', response_flags: 'UT' }, start)).toBeGreaterThan(0);
    },
  },
  {
    name: 'istio: a delay fault on a route does not count against the same route\'s timeout',
    mesh: 'istio',
    source: 'Envoy HTTP fault filter runs before the router, whose timeout starts when it gets the request; istio/istio#13313 (10 s delay, 5 s timeout: no timeout), #6860 (observed timeout = route timeout + fixedDelay)',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, VS('api', 'server', { hosts: [HOST], http: [{ timeout: '500ms', fault: { delay: { fixedDelay: '2s', percentage: { value: 100 } } }, route: [to()] }] }));
      const start = lab.now;
      const seen = await callerToApi(lab);
      // Only the server's own slow tail times out, as it would without the delay.
      expect(seen.share).toBeGreaterThan(0.97);
      expect(lab.meanLatency('client/caller', 'server/api', start)).toBeGreaterThan(2000);
    },
  },
  {
    name: 'istio: the deprecated integer percent of a delay still counts',
    mesh: 'istio',
    source: 'virtual_service.proto HTTPFaultInjection.Delay.percent (int32, deprecated in favour of percentage); Abort has no integer form',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, VS('api', 'server', { hosts: [HOST], http: [{ fault: { delay: { fixedDelay: '2s', percent: 50 } }, route: [to()] }] }));
      const start = lab.now;
      await callerToApi(lab);
      // Half the requests wait 2 s: the mean is a little over 1 s.
      const mean = lab.meanLatency('client/caller', 'server/api', start);
      expect(mean).toBeGreaterThan(1000);
      expect(mean).toBeLessThan(1500);
    },
  },
  {
    name: 'istio: a redirect is answered by the client\'s proxy with 301',
    mesh: 'istio',
    source: 'virtual-service reference HTTPRedirect (redirectCode default 301)',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, VS('api', 'server', { hosts: [HOST], http: [{ redirect: { uri: '/moved' } }] }));
      expect(Object.keys((await callerToApi(lab)).codes)).toEqual(['301']);
    },
  },
  {
    name: 'istio: a direct response is answered by the client\'s proxy with its status',
    mesh: 'istio',
    source: 'virtual-service reference HTTPDirectResponse.status',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, VS('api', 'server', { hosts: [HOST], http: [{ directResponse: { status: 418 } }] }));
      expect(Object.keys((await callerToApi(lab)).codes)).toEqual(['418']);
    },
  },
  {
    name: 'istio: a rewritten path is what the server\'s authorization sees',
    mesh: 'istio',
    topology: WITH_REQUESTS,
    source: 'virtual-service reference HTTPRewrite.uri (applied by the client proxy before forwarding); authorization-policy Operation.paths at the server',
    run: async (lab) => {
      await meshAll(lab);
      await apply(
        lab,
        VS('api', 'server', { hosts: [HOST], http: [{ match: [{ uri: { prefix: '/admin' } }], rewrite: { uri: '/internal' }, route: [to()] }, { route: [to()] }] }),
        { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'no-internal', namespace: 'server' }, spec: { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/internal*'] } }] }] } },
      );
      expect((await callerToApi(lab)).share).toBeCloseTo(0.9, 5);
    },
  },
  {
    name: 'istio: mirrored requests reach the mirror, and the caller never waits for them',
    mesh: 'istio',
    source: 'istio.io tasks/traffic-management/mirroring ("fire and forget"; mirrorPercentage)',
    run: async (lab) => {
      await meshAll(lab);
      await lab.mesh('legacy');
      const start = lab.now;
      await apply(lab, VS('api', 'server', { hosts: [HOST], http: [{ route: [to()], mirror: { host: 'batch.legacy.svc.cluster.local' }, mirrorPercentage: { value: 50 } }] }));
      expect((await callerToApi(lab)).share).toBe(1);
      expect(lab.increase('istio_requests_total', { reporter: 'destination', destination_service_name: 'batch', source_workload: 'caller' }, start)).toBeGreaterThan(0);
    },
  },
  {
    name: 'istio: a short host name is relative to the VirtualService\'s namespace',
    mesh: 'istio',
    topology: WITH_VERSIONS,
    source: 'virtual-service reference VirtualService.hosts: short names are interpreted relative to the rule\'s namespace',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, DR('api', 'server', { host: 'api', ...SUBSETS }), VS('api', 'server', { hosts: ['api'], http: [{ route: [{ destination: { host: 'api', subset: 'v1' } }] }] }));
      expect((await callerToApi(lab)).share).toBe(1);
    },
  },
  {
    name: 'istio: the same short host in another namespace names another service, and changes nothing here',
    mesh: 'istio',
    topology: WITH_VERSIONS,
    source: 'virtual-service reference VirtualService.hosts (short name "api" in namespace client is api.client.svc.cluster.local)',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, VS('api', 'client', { hosts: ['api'], http: [{ directResponse: { status: 500 } }] }));
      expect((await callerToApi(lab)).share).toBeCloseTo(2 / 3, 5);
    },
  },
  {
    name: 'istio: a wildcard host covers the services under it',
    mesh: 'istio',
    source: 'virtual-service reference VirtualService.hosts (wildcard prefix "*.")',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, VS('all', 'server', { hosts: ['*.server.svc.cluster.local'], http: [{ directResponse: { status: 418 } }] }));
      expect(Object.keys((await callerToApi(lab)).codes)).toEqual(['418']);
    },
  },
  {
    name: 'istio: exportTo "." keeps a VirtualService from callers in other namespaces',
    mesh: 'istio',
    source: 'virtual-service reference VirtualService.exportTo ("." : the same namespace only)',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, VS('api', 'server', { hosts: [HOST], exportTo: ['.'], http: [{ directResponse: { status: 418 } }] }));
      expect((await callerToApi(lab)).share).toBe(1);
    },
  },
  {
    name: 'istio: a VirtualService bound to a gateway only does not apply to sidecars',
    mesh: 'istio',
    source: 'virtual-service reference VirtualService.gateways ("mesh" is implied only when the list is empty)',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, VS('api', 'server', { hosts: [HOST], gateways: ['istio-system/public'], http: [{ directResponse: { status: 418 } }] }));
      expect((await callerToApi(lab)).share).toBe(1);
    },
  },
  {
    name: 'istio: a VirtualService in the caller\'s namespace wins over one elsewhere for the same host',
    mesh: 'istio',
    source: 'istio.io ops/best-practices/traffic-management "cross-namespace configuration" (a client namespace\'s own rule applies to it)',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, VS('api', 'server', { hosts: [HOST], http: [{ directResponse: { status: 418 } }] }), VS('api-for-client', 'client', { hosts: [HOST], http: [{ route: [to()] }] }));
      expect((await callerToApi(lab)).share).toBe(1);
    },
  },
  {
    name: 'istio: routes apply at the client\'s proxy: an unmeshed caller is not routed',
    mesh: 'istio',
    source: 'istio.io concepts/traffic-management: routing rules are configured in the client-side Envoy',
    run: async (lab) => {
      await lab.mesh('server');
      await apply(lab, VS('api', 'server', { hosts: [HOST], http: [{ directResponse: { status: 418 } }] }));
      expect((await lab.window(2 * MIN, 'legacy/batch', 'server/api')).share).toBe(1);
    },
  },
  {
    name: 'istio: a delegate VirtualService is reported as not modelled',
    mesh: 'istio',
    source: 'virtual-service reference HTTPRoute.delegate (delegation to another VirtualService)',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, VS('api', 'server', { hosts: [HOST], http: [{ delegate: { name: 'api-routes', namespace: 'server' } }] }));
      await callerToApi(lab);
      expect(lab.traffic.notModelledSeen()).toContainEqual(expect.stringContaining('VirtualService server/api: delegate is not modelled'));
    },
  },
];

const POLICY: BehaviourCase[] = [
  {
    name: 'istio: DestinationRule tls DISABLE towards a STRICT server breaks the calls (503)',
    mesh: 'istio',
    source: 'istio.io ops/common-problems/network-issues "503 errors after setting destination rule" (tls mode DISABLE with STRICT mTLS)',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default', namespace: 'server' }, spec: { mtls: { mode: 'STRICT' } } }, DR('api', 'server', { host: HOST, trafficPolicy: { tls: { mode: 'DISABLE' } } }));
      expect((await callerToApi(lab)).share).toBe(0);
    },
  },
  {
    name: 'istio: DestinationRule tls DISABLE towards a PERMISSIVE server sends plaintext, which it takes',
    mesh: 'istio',
    source: 'destination-rule reference ClientTLSSettings.DISABLE: "Do not setup a TLS connection to the upstream endpoint"',
    run: async (lab) => {
      await meshAll(lab);
      const start = lab.now;
      await apply(lab, DR('api', 'server', { host: HOST, trafficPolicy: { tls: { mode: 'DISABLE' } } }));
      expect((await callerToApi(lab)).share).toBe(1);
      expect(lab.increase('istio_requests_total', { reporter: 'destination', connection_security_policy: 'none' }, start)).toBeGreaterThan(0);
    },
  },
  {
    name: 'istio: DestinationRule tls ISTIO_MUTUAL towards a server without a sidecar fails the handshake',
    mesh: 'istio',
    source: 'istio.io ops/common-problems/network-issues (ISTIO_MUTUAL towards a workload without a sidecar: 503)',
    run: async (lab) => {
      await lab.mesh('client');
      await apply(lab, DR('api', 'server', { host: HOST, trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } }));
      expect(Object.keys((await callerToApi(lab)).codes)).toEqual(['503']);
    },
  },
  {
    name: 'istio: DestinationRule tls ISTIO_MUTUAL towards a meshed server works',
    mesh: 'istio',
    source: 'destination-rule reference ClientTLSSettings.ISTIO_MUTUAL: mutual TLS with Istio certificates',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, DR('api', 'server', { host: HOST, trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } }));
      expect((await callerToApi(lab)).share).toBe(1);
    },
  },
  {
    name: 'istio: DestinationRule tls SIMPLE towards a plaintext app fails',
    mesh: 'istio',
    source: 'destination-rule reference ClientTLSSettings.SIMPLE ("Originate a TLS connection to the upstream endpoint"); the app speaks plaintext',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, DR('api', 'server', { host: HOST, trafficPolicy: { tls: { mode: 'SIMPLE' } } }));
      expect(Object.keys((await callerToApi(lab)).codes)).toEqual(['503']);
    },
  },
  {
    name: 'istio: a DestinationRule in the caller\'s namespace takes precedence over the service\'s',
    mesh: 'istio',
    source: 'destination-rule reference exportTo: lookup in the client namespace, then the service namespace, then the root namespace',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default', namespace: 'server' }, spec: { mtls: { mode: 'STRICT' } } }, DR('api', 'server', { host: HOST, trafficPolicy: { tls: { mode: 'DISABLE' } } }), DR('api', 'client', { host: HOST, trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } }));
      expect((await callerToApi(lab)).share).toBe(1);
    },
  },
  {
    name: 'istio: a root-namespace DestinationRule applies when neither namespace has one',
    mesh: 'istio',
    source: 'destination-rule reference exportTo (root config namespace last)',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default', namespace: 'server' }, spec: { mtls: { mode: 'STRICT' } } }, DR('mesh-disable', 'istio-system', { host: '*.svc.cluster.local', trafficPolicy: { tls: { mode: 'DISABLE' } } }));
      expect((await callerToApi(lab)).share).toBe(0);
    },
  },
  {
    name: 'istio: exportTo "." keeps a DestinationRule from callers in other namespaces',
    mesh: 'istio',
    source: 'destination-rule reference DestinationRule.exportTo',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default', namespace: 'server' }, spec: { mtls: { mode: 'STRICT' } } }, DR('api', 'server', { host: HOST, exportTo: ['.'], trafficPolicy: { tls: { mode: 'DISABLE' } } }));
      expect((await callerToApi(lab)).share).toBe(1);
    },
  },
  {
    name: 'istio: portLevelSettings for another port leave this port to the top-level policy',
    mesh: 'istio',
    source: 'destination-rule reference TrafficPolicy.portLevelSettings ("Traffic policies specific to individual ports")',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default', namespace: 'server' }, spec: { mtls: { mode: 'STRICT' } } }, DR('api', 'server', { host: HOST, trafficPolicy: { portLevelSettings: [{ port: { number: 9090 }, tls: { mode: 'DISABLE' } }] } }));
      expect((await callerToApi(lab)).share).toBe(1);
    },
  },
  {
    name: 'istio: portLevelSettings for the called port override the top level',
    mesh: 'istio',
    source: 'destination-rule reference TrafficPolicy.portLevelSettings (port-level settings override the destination-level settings)',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default', namespace: 'server' }, spec: { mtls: { mode: 'STRICT' } } }, DR('api', 'server', { host: HOST, trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' }, portLevelSettings: [{ port: { number: 8080 }, tls: { mode: 'DISABLE' } }] } }));
      expect((await callerToApi(lab)).share).toBe(0);
    },
  },
  {
    name: 'istio: a subset\'s traffic policy overrides the rule\'s for that subset',
    mesh: 'istio',
    topology: WITH_VERSIONS,
    source: 'destination-rule reference Subset.trafficPolicy: "Traffic policies that apply to this subset. Subsets inherit the traffic policies specified at the DestinationRule level"',
    run: async (lab) => {
      await meshAll(lab);
      await apply(
        lab,
        { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default', namespace: 'server' }, spec: { mtls: { mode: 'STRICT' } } },
        DR('api', 'server', { host: HOST, trafficPolicy: { tls: { mode: 'DISABLE' } }, subsets: [{ name: 'v1', labels: { version: 'v1' }, trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } }, { name: 'v2', labels: { version: 'v2' } }] }),
        VS('api', 'server', { hosts: [HOST], http: [{ route: [to('v1')] }] }),
      );
      expect((await callerToApi(lab)).share).toBe(1);
    },
  },
  {
    name: 'istio: a tight connection pool overflows under load: 503 UO and Envoy\'s overflow counter',
    mesh: 'istio',
    topology: SLOW,
    source: 'istio.io tasks/traffic-management/circuit-breaking (maxConnections 1, http1MaxPendingRequests 1; upstream_rq_pending_overflow)',
    run: async (lab) => {
      await meshAll(lab);
      const start = lab.now;
      await apply(lab, DR('api', 'server', { host: HOST, trafficPolicy: { connectionPool: { tcp: { maxConnections: 1 }, http: { http1MaxPendingRequests: 1 } } } }));
      const seen = await callerToApi(lab);
      expect(seen.share).toBeLessThan(0.2);
      expect(seen.codes['503']).toBeGreaterThan(0);
      expect(lab.increase('envoy_cluster_upstream_rq_pending_overflow', { namespace: 'client' }, start)).toBeGreaterThan(0);
      expect(lab.increase('istio_requests_total', { reporter: 'source', response_flags: 'UO' }, start)).toBeGreaterThan(0);
      // The circuit-breaker-trips SLI reads the overflow counter against the callers' requests.
      const trips = await new EmbeddedSource(lab.lab.twin.metrics, 'istio').measure('circuit-breaker-trips', { edge: { from: 'client/caller', to: 'server/api' } }, { from: lab.now - 2 * MIN, to: lab.now });
      expect(trips.value).toBeGreaterThan(50);
    },
  },
  {
    name: 'istio: a connection pool sized for the load overflows nothing, and circuit-breaker-trips reads 0, not no data',
    mesh: 'istio',
    topology: SLOW,
    source: 'Envoy circuit breaking: requests within max connections plus pending are served; cluster stats exist at zero',
    run: async (lab) => {
      await meshAll(lab);
      // No pool at all: nothing trips, and the counter is there at zero (no data would be Inconclusive).
      await callerToApi(lab);
      const trips = await new EmbeddedSource(lab.lab.twin.metrics, 'istio').measure('circuit-breaker-trips', { service: 'server/api' }, { from: lab.now - 2 * MIN, to: lab.now });
      expect(trips.value).toBe(0);
      expect(trips.samples).toBeGreaterThan(0);
      await apply(lab, DR('api', 'server', { host: HOST, trafficPolicy: { connectionPool: { tcp: { maxConnections: 100 }, http: { http1MaxPendingRequests: 100 } } } }));
      expect((await callerToApi(lab)).share).toBeCloseTo(1, 3);
    },
  },
  {
    name: 'istio: outlier detection ejects the failing pod, and the callers mostly stop seeing its errors',
    mesh: 'istio',
    topology: WITH_VERSIONS,
    source: 'destination-rule reference OutlierDetection (consecutive5xxErrors, interval, baseEjectionTime, maxEjectionPercent); Envoy outlier detection',
    run: async (lab) => {
      await meshAll(lab);
      const start = lab.now;
      await apply(lab, DR('api', 'server', { host: HOST, trafficPolicy: { outlierDetection: { consecutive5xxErrors: 3, interval: '10s', baseEjectionTime: '3m', maxEjectionPercent: 100 } } }));
      const seen = await callerToApi(lab);
      expect(seen.share).toBeGreaterThan(0.9);
      expect(lab.lab.twin.metrics.find('envoy_cluster_outlier_detection_ejections_active', { namespace: 'client' }).length).toBeGreaterThan(0);
      void start;
    },
  },
  {
    name: 'istio: without outlier detection the failing pod keeps its share of the requests',
    mesh: 'istio',
    topology: WITH_VERSIONS,
    source: 'destination-rule reference: outlier detection is off unless configured',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, DR('api', 'server', { host: HOST, trafficPolicy: { connectionPool: { tcp: { maxConnections: 1000 } } } }));
      expect((await callerToApi(lab)).share).toBeCloseTo(2 / 3, 3);
    },
  },
  {
    name: 'istio: a DestinationRule field the twin does not model is reported',
    mesh: 'istio',
    source: 'destination-rule reference LoadBalancerSettings.consistentHash',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, DR('api', 'server', { host: HOST, trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: 'x-user' } } } }));
      await callerToApi(lab);
      expect(lab.traffic.notModelledSeen()).toContainEqual(expect.stringContaining('trafficPolicy.loadBalancer.consistentHash is not modelled'));
    },
  },
];

const SC = (name: string, namespace: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'networking.istio.io/v1', kind: 'Sidecar', metadata: { name, namespace }, spec });
const ONLY_OWN = { egress: [{ hosts: ['./*', 'istio-system/*'] }] };
const REGISTRY_ONLY = { outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } };
// What the server's sidecar saw from the caller over mTLS (plaintext arrives with no peer: source "unknown").
const mtlsFromCaller = (lab: Lab, start: number) => lab.increase('istio_requests_total', { reporter: 'destination', source_workload: 'caller', destination_service_name: 'api', connection_security_policy: 'mutual_tls' }, start);

const EGRESS: BehaviourCase[] = [
  {
    name: 'istio: a REGISTRY_ONLY Sidecar whose egress hosts leave a service out sends its calls to the BlackHoleCluster (502)',
    mesh: 'istio',
    source: 'istio.io tasks/traffic-management/egress/egress-control: REGISTRY_ONLY blocks hosts not in the registry (502); sidecar reference: egress hosts scope what the proxy knows',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, SC('default', 'client', { ...ONLY_OWN, ...REGISTRY_ONLY }));
      expect(Object.keys((await callerToApi(lab)).codes)).toEqual(['502']);
    },
  },
  {
    name: 'istio: a REGISTRY_ONLY Sidecar that lists the service lets its calls through with mTLS',
    mesh: 'istio',
    source: 'sidecar reference IstioEgressListener.hosts "namespace/dnsName"',
    run: async (lab) => {
      await meshAll(lab);
      const start = lab.now;
      await apply(lab, SC('default', 'client', { egress: [{ hosts: ['./*', 'server/api.server.svc.cluster.local'] }], ...REGISTRY_ONLY }));
      expect((await callerToApi(lab)).share).toBe(1);
      expect(mtlsFromCaller(lab, start)).toBeGreaterThan(0);
    },
  },
  {
    name: 'istio: with ALLOW_ANY a host the Sidecar leaves out goes through the passthrough, as plaintext',
    mesh: 'istio',
    source: 'istio.io egress-control: ALLOW_ANY sends unknown hosts to the PassthroughCluster (original destination, plain TCP)',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, SC('default', 'client', ONLY_OWN));
      const start = lab.now;
      expect((await callerToApi(lab)).share).toBe(1);
      expect(mtlsFromCaller(lab, start)).toBe(0);
    },
  },
  {
    name: 'istio: passthrough plaintext into a STRICT server is refused',
    mesh: 'istio',
    source: 'PeerAuthentication STRICT refuses plaintext; the passthrough cluster has no mTLS',
    run: async (lab) => {
      await meshAll(lab);
      await lab.mtls('server', 'STRICT');
      await apply(lab, SC('default', 'client', ONLY_OWN));
      expect((await callerToApi(lab)).share).toBe(0);
    },
  },
  {
    name: 'istio: a Sidecar with a workloadSelector wins over the namespace\'s, and the root namespace\'s applies where a namespace has none',
    mesh: 'istio',
    source: 'sidecar reference: a Sidecar with a workloadSelector takes precedence; the root namespace\'s applies to namespaces without one',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, SC('default', 'istio-system', { ...ONLY_OWN, ...REGISTRY_ONLY }));
      expect(Object.keys((await callerToApi(lab)).codes)).toEqual(['502']);
      await apply(lab, SC('caller', 'client', { workloadSelector: { labels: { app: 'caller' } }, egress: [{ hosts: ['*/*'] }], ...REGISTRY_ONLY }));
      expect((await callerToApi(lab)).share).toBe(1);
    },
  },
  {
    name: 'istio: meshConfig outboundTrafficPolicy REGISTRY_ONLY applies to a Sidecar that does not set it',
    mesh: 'istio',
    source: 'mesh config reference outboundTrafficPolicy; sidecar reference: "If not specified, inherits the system detected defaults from the namespace-wide or the global default Sidecar"',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio', namespace: 'istio-system' }, data: { mesh: 'outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n' } });
      await apply(lab, SC('default', 'client', ONLY_OWN));
      expect(Object.keys((await callerToApi(lab)).codes)).toEqual(['502']);
    },
  },
];

/** client/caller also calls a payment provider outside the mesh. */
const WITH_EXTERNAL = Topology.parse({ ...MICRO, spec: { ...MICRO.spec, namespaces: MICRO.spec.namespaces.map((n) => (n.name !== 'client' ? n : { ...n, services: n.services.map((s) => (s.name !== 'caller' ? s : { ...s, external: [{ host: 'api.stripe.com', port: 443 }] })) })) } });
const SE = (namespace: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 'stripe', namespace }, spec: { hosts: ['api.stripe.com'], ports: [{ number: 443, name: 'tls', protocol: 'TLS' }], location: 'MESH_EXTERNAL', resolution: 'DNS', ...spec } });
const toStripe = (lab: Lab) => lab.window(2 * MIN, 'client/caller', 'external/api.stripe.com');

const OUTSIDE: BehaviourCase[] = [
  {
    name: 'istio: with the default ALLOW_ANY an outside host with no ServiceEntry is reached through the passthrough',
    mesh: 'istio',
    topology: WITH_EXTERNAL,
    source: 'istio.io tasks/traffic-management/egress/egress-control: ALLOW_ANY, requests to unknown hosts go to PassthroughCluster',
    run: async (lab) => {
      await meshAll(lab);
      const start = lab.now;
      expect((await toStripe(lab)).share).toBe(1);
      expect(lab.increase('istio_requests_total', { reporter: 'source', destination_service_name: 'PassthroughCluster' }, start)).toBeGreaterThan(0);
    },
  },
  {
    name: 'istio: under REGISTRY_ONLY an outside host with no ServiceEntry gets 502 from the BlackHoleCluster; a ServiceEntry lets it out',
    mesh: 'istio',
    topology: WITH_EXTERNAL,
    source: 'istio.io egress-control: REGISTRY_ONLY blocks hosts without a ServiceEntry (502); "Access an external HTTP/HTTPS service" with a ServiceEntry',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio', namespace: 'istio-system' }, data: { mesh: 'outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n' } });
      await lab.advance(10_000);
      expect(Object.keys((await toStripe(lab)).codes)).toEqual(['502']);
      await apply(lab, SE('client', {}));
      expect((await toStripe(lab)).share).toBe(1);
    },
  },
  {
    name: 'istio: a ServiceEntry exported only to its own namespace does not help a caller elsewhere',
    mesh: 'istio',
    topology: WITH_EXTERNAL,
    source: 'service-entry reference exportTo: "." exports to the ServiceEntry\'s namespace only',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, SC('default', 'client', REGISTRY_ONLY), SE('server', { exportTo: ['.'] }));
      expect(Object.keys((await toStripe(lab)).codes)).toEqual(['502']);
    },
  },
  {
    name: 'istio: a ServiceEntry the caller\'s Sidecar egress hosts leave out is still blocked under REGISTRY_ONLY',
    mesh: 'istio',
    topology: WITH_EXTERNAL,
    source: 'sidecar reference: egress hosts ("namespace/dnsName") scope what the proxy knows, ServiceEntries included',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'egress' } }, SE('egress', {}), SC('default', 'client', { egress: [{ hosts: ['./*'] }], ...REGISTRY_ONLY }));
      expect(Object.keys((await toStripe(lab)).codes)).toEqual(['502']);
      await apply(lab, SC('default', 'client', { egress: [{ hosts: ['./*', 'egress/api.stripe.com'] }], ...REGISTRY_ONLY }));
      expect((await toStripe(lab)).share).toBe(1);
    },
  },
  {
    name: 'linkerd: an EgressNetwork that denies answers 403 to meshed callers, unless a route to it names the host',
    mesh: 'linkerd',
    topology: WITH_EXTERNAL,
    source: 'linkerd.io reference/egress-network: trafficPolicy Deny refuses traffic not matched by a route attached to the EgressNetwork; Allow lets it through',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'linkerd-egress' } }, { apiVersion: 'policy.linkerd.io/v1alpha1', kind: 'EgressNetwork', metadata: { name: 'all', namespace: 'linkerd-egress' }, spec: { trafficPolicy: 'Deny' } });
      expect(Object.keys((await toStripe(lab)).codes)).toEqual(['403']);
      await apply(lab, { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'stripe', namespace: 'linkerd-egress' }, spec: { parentRefs: [{ group: 'policy.linkerd.io', kind: 'EgressNetwork', name: 'all' }], hostnames: ['api.stripe.com'], rules: [{}] } });
      expect((await toStripe(lab)).share).toBe(1);
    },
  },
];

/** server/api and a canary Service beside it that fails every request. */
const WITH_CANARY = Topology.parse({ ...MICRO, spec: { ...MICRO.spec, namespaces: MICRO.spec.namespaces.map((n) => (n.name !== 'server' ? n : { ...n, services: [...n.services, { name: 'api-canary', replicas: 1, errorRate: '100%' }] })) } });
const LROUTE = (rules: Array<Record<string, unknown>>): KubeObject => ({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'api', namespace: 'server' }, spec: { parentRefs: [{ group: 'core', kind: 'Service', name: 'api', port: 8080 }], rules } });

const LINKERD_OUTBOUND: BehaviourCase[] = [
  {
    name: 'linkerd: an HTTPRoute on the Service splits its callers\' requests between backends by weight',
    mesh: 'linkerd',
    topology: WITH_CANARY,
    source: 'linkerd.io features/httproute (a Service parent configures the clients\' outbound routing); Gateway API traffic splitting (weights are proportional)',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, LROUTE([{ backendRefs: [{ name: 'api', port: 8080, weight: 90 }, { name: 'api-canary', port: 8080, weight: 10 }] }]));
      expect((await callerToApi(lab)).share).toBeCloseTo(0.9, 5);
    },
  },
  {
    name: 'linkerd: when a Service\'s HTTPRoutes match nothing, the client\'s proxy answers 404',
    mesh: 'linkerd',
    topology: WITH_CANARY,
    source: 'Gateway API HTTPRoute: "If no matching rule is found, a 404 status code MUST be returned"',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, LROUTE([{ matches: [{ path: { type: 'PathPrefix', value: '/admin' } }], backendRefs: [{ name: 'api-canary', port: 8080 }] }]));
      expect(Object.keys((await callerToApi(lab)).codes)).toEqual(['404']);
    },
  },
  {
    name: 'linkerd: a backendRef naming no Service answers 500; unmeshed callers are not routed at all',
    mesh: 'linkerd',
    topology: WITH_CANARY,
    source: 'Gateway API HTTPRoute backendRefs: requests to an invalid backend get 500; routing is done by the client\'s proxy',
    run: async (lab) => {
      await meshAll(lab);
      await apply(lab, LROUTE([{ backendRefs: [{ name: 'api-v3', port: 8080 }] }]));
      expect(Object.keys((await callerToApi(lab)).codes)).toEqual(['500']);
      expect((await lab.window(2 * MIN, 'legacy/batch', 'server/api')).share).toBe(1);
    },
  },
];

behaviourTable('mesh twin: routing and destination policy', [...ROUTING, ...POLICY, ...EGRESS, ...OUTSIDE, ...LINKERD_OUTBOUND]);
