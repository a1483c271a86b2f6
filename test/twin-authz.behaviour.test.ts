import { expect } from 'vitest';
import type { KubeObject } from '../clusters/kube/types.js';
import { behaviourTable, type BehaviourCase } from './helpers/behaviour-table.js';
import { WITH_REQUESTS, type Lab } from './helpers/twin-lab.js';

// Identities and request-level authorization, Istio and Linkerd, each case through the embedded
// cluster: policies applied with the Kubernetes API, traffic from the topology, outcomes read from
// the callers' own metrics. Cases follow the projects' documentation and the shapes of their
// tests (istio/istio tests/integration/security/authz_test.go; linkerd2 policy-test); the
// objects here are written for meshdrill's small topology.

const MIN = 60_000;
const AP = (name: string, namespace: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name, namespace }, spec });
const PA = (name: string, namespace: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name, namespace }, spec });
const API = { selector: { matchLabels: { app: 'api' } } };

async function meshAll(lab: Lab): Promise<void> {
  await lab.mesh('server');
  await lab.mesh('client');
}

/** The share of caller → api requests that succeed, and the status codes seen, over two minutes. */
async function callerToApi(lab: Lab) {
  return lab.window(2 * MIN, 'client/caller', 'server/api');
}

async function meshConfig(lab: Lab, mesh: string): Promise<void> {
  await lab.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio', namespace: 'istio-system' }, data: { mesh } });
  await lab.advance(10_000);
}

const ISTIO: BehaviourCase[] = [
  // --- identity ---
  {
    name: 'istio: a workload runs as its own ServiceAccount, and its principal carries it',
    mesh: 'istio',
    source: 'istio.io concepts/security "Istio identity": spiffe://<trust domain>/ns/<namespace>/sa/<service account>',
    run: async (lab) => {
      await meshAll(lab);
      const start = lab.now;
      await callerToApi(lab);
      expect(lab.increase('istio_requests_total', { reporter: 'destination', source_principal: 'spiffe://cluster.local/ns/client/sa/caller' }, start)).toBeGreaterThan(0);
      expect(lab.increase('istio_requests_total', { reporter: 'destination', source_principal: 'spiffe://cluster.local/ns/client/sa/default' }, start)).toBe(0);
    },
  },
  {
    name: 'istio: an ALLOW by principal admits the named client and denies another with 403',
    mesh: 'istio',
    source: 'istio.io tasks/security/authorization/authz-http: ALLOW by source.principals; RBAC: access denied (403)',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(AP('allow-caller', 'server', { ...API, action: 'ALLOW', rules: [{ from: [{ source: { principals: ['cluster.local/ns/client/sa/caller'] } }] }] }));
      await lab.advance(10_000);
      expect((await callerToApi(lab)).share).toBe(1);
      const rare = await lab.window(10 * MIN, 'client/rare', 'server/api');
      expect(Object.keys(rare.codes)).toEqual(['403']);
    },
  },
  {
    name: 'istio: a DENY by principal denies only that client',
    mesh: 'istio',
    source: 'authorization-policy reference: "If there are any DENY policies that match the request, deny the request"',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(AP('deny-rare', 'server', { ...API, action: 'DENY', rules: [{ from: [{ source: { principals: ['cluster.local/ns/client/sa/rare'] } }] }] }));
      await lab.advance(10_000);
      expect((await callerToApi(lab)).share).toBe(1);
      expect(Object.keys((await lab.window(10 * MIN, 'client/rare', 'server/api')).codes)).toEqual(['403']);
    },
  },
  {
    name: 'istio: a DENY with notPrincipals denies everyone but the named client, plaintext callers included',
    mesh: 'istio',
    source: 'authorization-policy reference Source.notPrincipals; istio.io authz-deny task ("notPrincipals")',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(AP('only-caller', 'server', { ...API, action: 'DENY', rules: [{ from: [{ source: { notPrincipals: ['cluster.local/ns/client/sa/caller'] } }] }] }));
      await lab.advance(10_000);
      expect((await callerToApi(lab)).share).toBe(1);
      expect(Object.keys((await lab.window(2 * MIN, 'legacy/batch', 'server/api')).codes)).toEqual(['403']);
    },
  },
  {
    name: 'istio: an ALLOW by source namespace does not admit plaintext callers (the namespace comes from the certificate)',
    mesh: 'istio',
    source: 'authorization-policy reference Source.namespaces: "requires mTLS enabled"',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(AP('from-client', 'server', { ...API, action: 'ALLOW', rules: [{ from: [{ source: { namespaces: ['client', 'legacy'] } }] }] }));
      await lab.advance(10_000);
      expect((await callerToApi(lab)).share).toBe(1);
      expect(Object.keys((await lab.window(2 * MIN, 'legacy/batch', 'server/api')).codes)).toEqual(['403']);
    },
  },
  {
    name: 'istio: a DENY by source namespace of plaintext callers matches nothing: they keep getting through',
    mesh: 'istio',
    source: 'authorization-policy reference Source.namespaces (mTLS only); istio.io authz-deny: plaintext has no namespace',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(AP('deny-legacy', 'server', { ...API, action: 'DENY', rules: [{ from: [{ source: { namespaces: ['legacy'] } }] }] }));
      await lab.advance(10_000);
      expect((await lab.window(2 * MIN, 'legacy/batch', 'server/api')).share).toBe(1);
    },
  },
  {
    name: 'istio: a DENY with notNamespaces denies plaintext callers, who have no namespace',
    mesh: 'istio',
    source: 'authorization-policy reference Source.notNamespaces; Envoy RBAC not_id over the authenticated principal',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(AP('meshed-only', 'server', { ...API, action: 'DENY', rules: [{ from: [{ source: { notNamespaces: ['client'] } }] }] }));
      await lab.advance(10_000);
      expect((await callerToApi(lab)).share).toBe(1);
      expect(Object.keys((await lab.window(2 * MIN, 'legacy/batch', 'server/api')).codes)).toEqual(['403']);
    },
  },
  {
    name: 'istio: an ALLOW scoped to port 9090 does not allow requests to 8080',
    mesh: 'istio',
    source: 'authorization-policy reference Operation.ports; authz_test.go port-scoped rules',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(AP('allow-9090', 'server', { ...API, action: 'ALLOW', rules: [{ to: [{ operation: { ports: ['9090'] } }] }] }));
      await lab.advance(10_000);
      expect(Object.keys((await callerToApi(lab)).codes)).toEqual(['403']);
    },
  },
  {
    name: 'istio: an ALLOW on port 8080 allows the requests to 8080',
    mesh: 'istio',
    source: 'authorization-policy reference Operation.ports',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(AP('allow-8080', 'server', { ...API, action: 'ALLOW', rules: [{ to: [{ operation: { ports: ['8080'] } }] }] }));
      await lab.advance(10_000);
      expect((await callerToApi(lab)).share).toBe(1);
    },
  },
  {
    name: 'istio: a DENY of DELETE denies only the DELETE requests',
    mesh: 'istio',
    topology: WITH_REQUESTS,
    source: 'authorization-policy reference Operation.methods; istio.io authz-deny task (deny DELETE)',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(AP('no-delete', 'server', { ...API, action: 'DENY', rules: [{ to: [{ operation: { methods: ['DELETE'] } }] }] }));
      await lab.advance(10_000);
      const seen = await callerToApi(lab);
      expect(seen.share).toBeCloseTo(0.9, 5);
      expect(seen.codes['403']! / seen.total).toBeCloseTo(0.1, 5);
    },
  },
  {
    name: 'istio: a DENY of paths /admin* denies only the admin requests',
    mesh: 'istio',
    topology: WITH_REQUESTS,
    source: 'authorization-policy reference Operation.paths (prefix match with "*")',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(AP('no-admin', 'server', { ...API, action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin*'] } }] }] }));
      await lab.advance(10_000);
      expect((await callerToApi(lab)).share).toBeCloseTo(0.9, 5);
    },
  },
  {
    name: 'istio: an ALLOW of GET with a path template admits /items/{*} and nothing else of DELETE',
    mesh: 'istio',
    topology: WITH_REQUESTS,
    source: 'authorization-policy reference Operation.paths: path templates {*} and {**} (Istio 1.22+)',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(AP('gets', 'server', { ...API, action: 'ALLOW', rules: [{ to: [{ operation: { methods: ['GET'], paths: ['/items', '/admin/{**}'] } }] }] }));
      await lab.advance(10_000);
      const seen = await callerToApi(lab);
      expect(seen.codes['403']! / seen.total).toBeCloseTo(0.1, 5);
    },
  },
  {
    name: 'istio: notPaths in an ALLOW admits everything but the excluded path',
    mesh: 'istio',
    topology: WITH_REQUESTS,
    source: 'authorization-policy reference Operation.notPaths',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(AP('not-admin', 'server', { ...API, action: 'ALLOW', rules: [{ to: [{ operation: { notPaths: ['/admin/*'] } }] }] }));
      await lab.advance(10_000);
      expect((await callerToApi(lab)).share).toBeCloseTo(0.9, 5);
    },
  },
  {
    name: 'istio: a when condition on a request header admits only the requests that carry it',
    mesh: 'istio',
    topology: WITH_REQUESTS,
    source: 'authorization-policy reference Condition request.headers[<name>]; istio.io authz-http task',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(AP('jason-only', 'server', { ...API, action: 'ALLOW', rules: [{ when: [{ key: 'request.headers[End-User]', values: ['jason'] }] }] }));
      await lab.advance(10_000);
      expect((await callerToApi(lab)).share).toBeCloseTo(0.1, 5);
    },
  },
  {
    name: 'istio: a when condition with notValues denies only the matching requests',
    mesh: 'istio',
    topology: WITH_REQUESTS,
    source: 'authorization-policy reference Condition.notValues',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(AP('not-jason', 'server', { ...API, action: 'ALLOW', rules: [{ when: [{ key: 'request.headers[end-user]', notValues: ['jason'] }] }] }));
      await lab.advance(10_000);
      expect((await callerToApi(lab)).share).toBeCloseTo(0.9, 5);
    },
  },
  {
    name: 'istio: hosts in an operation match the Host the client sends, with or without the port',
    mesh: 'istio',
    source: 'authorization-policy reference Operation.hosts ("host as specified in the HTTP request, case-insensitive")',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(AP('by-host', 'server', { ...API, action: 'ALLOW', rules: [{ to: [{ operation: { hosts: ['API.server.svc.cluster.local'] } }] }] }));
      await lab.advance(10_000);
      expect((await callerToApi(lab)).share).toBe(1);
    },
  },
  {
    name: 'istio: a condition on source.namespace admits meshed callers of that namespace',
    mesh: 'istio',
    source: 'authorization-policy reference, supported conditions: source.namespace',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(AP('ns-cond', 'server', { ...API, action: 'ALLOW', rules: [{ when: [{ key: 'source.namespace', values: ['client'] }] }] }));
      await lab.advance(10_000);
      expect((await callerToApi(lab)).share).toBe(1);
      expect(Object.keys((await lab.window(2 * MIN, 'legacy/batch', 'server/api')).codes)).toEqual(['403']);
    },
  },
  {
    name: 'istio: a DENY of the cluster pod network by ipBlocks denies in-cluster callers',
    mesh: 'istio',
    source: 'authorization-policy reference Source.ipBlocks (the direct peer address)',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(AP('no-pods', 'server', { ...API, action: 'DENY', rules: [{ from: [{ source: { ipBlocks: ['10.244.0.0/16'] } }] }] }));
      await lab.advance(10_000);
      expect(Object.keys((await callerToApi(lab)).codes)).toEqual(['403']);
    },
  },
  {
    name: 'istio: a condition on destination.port matches the request port',
    mesh: 'istio',
    source: 'authorization-policy reference, supported conditions: destination.port',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(AP('port-cond', 'server', { ...API, action: 'DENY', rules: [{ when: [{ key: 'destination.port', values: ['8080'] }] }] }));
      await lab.advance(10_000);
      expect(Object.keys((await callerToApi(lab)).codes)).toEqual(['403']);
    },
  },
  {
    name: 'istio: requestPrincipals match no request without a JWT',
    mesh: 'istio',
    source: 'authorization-policy reference Source.requestPrincipals (from the validated JWT; istio.io authz-jwt task: requests without a token are denied)',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(AP('jwt', 'server', { ...API, action: 'ALLOW', rules: [{ from: [{ source: { requestPrincipals: ['*'] } }] }] }));
      await lab.advance(10_000);
      expect(Object.keys((await callerToApi(lab)).codes)).toEqual(['403']);
    },
  },
  {
    name: 'istio: an ALLOW policy with no rules allows nothing',
    mesh: 'istio',
    source: 'authorization-policy reference: "allow-nothing" example (spec with action ALLOW and no rules)',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(AP('allow-nothing', 'server', { action: 'ALLOW' }));
      await lab.advance(10_000);
      expect(Object.keys((await callerToApi(lab)).codes)).toEqual(['403']);
    },
  },
  {
    name: 'istio: a DENY policy with no rules denies nothing',
    mesh: 'istio',
    source: 'authorization-policy reference: a rule is required to match; a DENY with no rules never matches',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(AP('deny-nothing', 'server', { action: 'DENY' }));
      await lab.advance(10_000);
      expect((await callerToApi(lab)).share).toBe(1);
    },
  },
  {
    name: 'istio: an ALLOW with one empty rule allows everything',
    mesh: 'istio',
    source: 'authorization-policy reference: "allow-all" example (rules: [{}])',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(AP('allow-all', 'server', { action: 'ALLOW', rules: [{}] }));
      await lab.advance(10_000);
      expect((await callerToApi(lab)).share).toBe(1);
      expect((await lab.window(2 * MIN, 'legacy/batch', 'server/api')).share).toBe(1);
    },
  },
  {
    name: 'istio: DENY wins over an ALLOW that matches the same request',
    mesh: 'istio',
    source: 'authorization-policy reference: evaluation order CUSTOM, DENY, then ALLOW',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(AP('allow-all', 'server', { action: 'ALLOW', rules: [{}] }));
      await lab.apply(AP('deny-caller', 'server', { action: 'DENY', rules: [{ from: [{ source: { principals: ['cluster.local/ns/client/sa/caller'] } }] }] }));
      await lab.advance(10_000);
      expect(Object.keys((await callerToApi(lab)).codes)).toEqual(['403']);
    },
  },
  {
    name: 'istio: an AUDIT policy changes no outcome',
    mesh: 'istio',
    source: 'authorization-policy reference Action AUDIT: "Audit a request if it matches" (no allow or deny)',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(AP('audit', 'server', { action: 'AUDIT', rules: [{}] }));
      await lab.advance(10_000);
      expect((await callerToApi(lab)).share).toBe(1);
    },
  },
  {
    name: 'istio: a CUSTOM policy is reported as not modelled, with its provider, and lets requests through',
    mesh: 'istio',
    source: 'authorization-policy reference Action CUSTOM (extension provider decides; istio.io authz-custom task)',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(AP('ext', 'server', { action: 'CUSTOM', provider: { name: 'opa' }, rules: [{}] }));
      await lab.advance(10_000);
      expect((await callerToApi(lab)).share).toBe(1);
      expect(lab.traffic.notModelledSeen()).toEqual([expect.stringContaining('AuthorizationPolicy server/ext: action CUSTOM (provider opa)')]);
    },
  },
  {
    name: 'istio: a root-namespace policy with a selector applies in every namespace',
    mesh: 'istio',
    source: 'authorization-policy reference: a policy in the root namespace applies to all namespaces, selector included',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(AP('mesh-deny-rare', 'istio-system', { ...API, action: 'DENY', rules: [{ from: [{ source: { principals: ['*/sa/rare'] } }] }] }));
      await lab.advance(10_000);
      expect(Object.keys((await lab.window(10 * MIN, 'client/rare', 'server/api')).codes)).toEqual(['403']);
      expect((await callerToApi(lab)).share).toBe(1);
    },
  },
  {
    name: 'istio: a policy of another namespace does not apply',
    mesh: 'istio',
    source: 'authorization-policy reference: scope is the policy namespace (root namespace excepted)',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(AP('elsewhere', 'client', { ...API, action: 'ALLOW' }));
      await lab.advance(10_000);
      expect((await callerToApi(lab)).share).toBe(1);
    },
  },
  {
    name: 'istio: a policy attached by targetRefs applies at a waypoint or gateway, not to the sidecar, and says so',
    mesh: 'istio',
    source: 'authorization-policy reference targetRef(s): "the targets ... Gateway, GatewayClass, Service, ServiceEntry"',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(AP('waypoint', 'server', { targetRefs: [{ kind: 'Service', group: '', name: 'api' }], action: 'ALLOW' }));
      await lab.advance(10_000);
      expect((await callerToApi(lab)).share).toBe(1);
      expect(lab.traffic.notModelledSeen()[0]).toMatch(/targetRefs \(Service\/api\)/);
    },
  },
  // --- trust domains ---
  {
    name: 'istio: with a custom trust domain, principals are minted in it',
    mesh: 'istio',
    source: 'istio.io authz-td-migration: "the identity of said workload is spiffe://my-td/ns/foo/sa/bar"',
    run: async (lab) => {
      await meshConfig(lab, 'trustDomain: old-td\n');
      await meshAll(lab);
      const start = lab.now;
      await callerToApi(lab);
      expect(lab.increase('istio_requests_total', { reporter: 'destination', source_principal: 'spiffe://old-td/ns/client/sa/caller' }, start)).toBeGreaterThan(0);
    },
  },
  {
    name: 'istio: cluster.local in a policy points at the mesh trust domain, whatever it is',
    mesh: 'istio',
    source: 'istio.io authz-td-migration "Best practices": cluster.local is a pointer to the current trust domain and its aliases',
    run: async (lab) => {
      await meshConfig(lab, 'trustDomain: old-td\n');
      await meshAll(lab);
      await lab.apply(AP('allow-caller', 'server', { ...API, action: 'ALLOW', rules: [{ from: [{ source: { principals: ['cluster.local/ns/client/sa/caller'] } }] }] }));
      await lab.advance(10_000);
      expect((await callerToApi(lab)).share).toBe(1);
    },
  },
  {
    name: 'istio: after a trust domain change, a policy written for the old one denies until the old one is an alias',
    mesh: 'istio',
    source: 'istio.io authz-td-migration: "Migrate trust domain without trust domain aliases" and "with trust domain aliases"',
    run: async (lab) => {
      await meshConfig(lab, 'trustDomain: new-td\n');
      await meshAll(lab);
      await lab.apply(AP('old-policy', 'server', { ...API, action: 'ALLOW', rules: [{ from: [{ source: { principals: ['old-td/ns/client/sa/caller'] } }] }] }));
      await lab.advance(10_000);
      expect(Object.keys((await callerToApi(lab)).codes)).toEqual(['403']);
      await meshConfig(lab, 'trustDomain: new-td\ntrustDomainAliases: [old-td]\n');
      expect((await callerToApi(lab)).share).toBe(1);
    },
  },
  // --- PeerAuthentication details ---
  {
    name: 'istio: a DISABLE PeerAuthentication makes clients send plaintext, and the server reports it as such',
    mesh: 'istio',
    source: 'peer_authentication.proto DISABLE: "Connection is not tunneled"; pilot/pkg/xds/endpoints mtls_checker (DISABLE endpoints are plaintext for auto-mTLS)',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(PA('off', 'server', { mtls: { mode: 'DISABLE' } }));
      await lab.advance(10_000);
      const start = lab.now;
      expect((await callerToApi(lab)).share).toBe(1);
      expect(lab.increase('istio_requests_total', { reporter: 'destination', source_workload: 'unknown', connection_security_policy: 'none' }, start)).toBeGreaterThan(0);
      expect(lab.increase('istio_requests_total', { reporter: 'destination', connection_security_policy: 'mutual_tls' }, start)).toBe(0);
    },
  },
  {
    name: 'istio: portLevelMtls PERMISSIVE on the workload port lets plaintext in despite a STRICT namespace',
    mesh: 'istio',
    source: 'peer_authentication.proto portLevelMtls: "Port specific mutual TLS settings" (workload selector required)',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(PA('default', 'server', { mtls: { mode: 'STRICT' } }));
      await lab.apply(PA('api-port', 'server', { ...API, mtls: { mode: 'STRICT' }, portLevelMtls: { 8080: { mode: 'PERMISSIVE' } } }));
      await lab.advance(10_000);
      expect((await lab.window(2 * MIN, 'legacy/batch', 'server/api')).share).toBe(1);
    },
  },
  {
    name: 'istio: portLevelMtls STRICT on the workload port resets plaintext in a PERMISSIVE namespace',
    mesh: 'istio',
    source: 'peer_authentication.proto portLevelMtls',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(PA('api-port', 'server', { ...API, portLevelMtls: { 8080: { mode: 'STRICT' } } }));
      await lab.advance(10_000);
      expect(Object.keys((await lab.window(2 * MIN, 'legacy/batch', 'server/api')).codes)).toEqual(['0']);
    },
  },
  {
    name: 'istio: portLevelMtls for another port leaves the workload port with the workload mode',
    mesh: 'istio',
    source: 'peer_authentication.proto portLevelMtls (keys are workload ports)',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(PA('api-port', 'server', { ...API, mtls: { mode: 'PERMISSIVE' }, portLevelMtls: { 9090: { mode: 'STRICT' } } }));
      await lab.advance(10_000);
      expect((await lab.window(2 * MIN, 'legacy/batch', 'server/api')).share).toBe(1);
    },
  },
  // --- ambient: ztunnel enforces L4 only ---
  {
    name: 'ambient: an ALLOW by principal is enforced by ztunnel',
    mesh: 'istio',
    mode: 'ambient',
    source: 'istio.io ambient/usage/l4-policy: "The L4 (TCP) features ... have the same functional behavior in ambient mode"',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(AP('allow-caller', 'server', { ...API, action: 'ALLOW', rules: [{ from: [{ source: { principals: ['cluster.local/ns/client/sa/caller'] } }] }] }));
      await lab.advance(10_000);
      expect((await callerToApi(lab)).share).toBe(1);
      expect((await lab.window(10 * MIN, 'client/rare', 'server/api')).share).toBe(0);
    },
  },
  {
    name: 'ambient: an ALLOW rule that needs L7 attributes fails closed at ztunnel: the connection is refused',
    mesh: 'istio',
    mode: 'ambient',
    source: 'istio.io ambient/usage/l4-policy "Allowed policy attributes": L7 rules enforced by ztunnel fail safe (ALLOW rules dropped)',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(AP('get-only', 'server', { ...API, action: 'ALLOW', rules: [{ to: [{ operation: { methods: ['GET'] } }] }] }));
      await lab.advance(10_000);
      const seen = await callerToApi(lab);
      expect(seen.share).toBe(0);
      expect(seen.codes['403']).toBeUndefined();
    },
  },
  {
    name: 'ambient: a DENY rule with L7 attributes loses them at ztunnel and denies more',
    mesh: 'istio',
    mode: 'ambient',
    topology: WITH_REQUESTS,
    source: 'istio.io ambient/usage/l4-policy: a DENY with L7 attributes is enforced on its L4 attributes only (fail safe)',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(AP('no-delete-from-caller', 'server', { ...API, action: 'DENY', rules: [{ from: [{ source: { principals: ['cluster.local/ns/client/sa/caller'] } }], to: [{ operation: { methods: ['DELETE'] } }] }] }));
      await lab.advance(10_000);
      expect((await callerToApi(lab)).share).toBe(0);
    },
  },
  {
    name: 'ambient: ztunnel does not read cluster.local as the local trust domain',
    mesh: 'istio',
    mode: 'ambient',
    source: 'istio/ztunnel#1260: "cluster.local cannot be used as a pointer to the local trust domain" in ambient',
    run: async (lab) => {
      await meshConfig(lab, 'trustDomain: old-td\n');
      await meshAll(lab);
      await lab.apply(AP('allow-caller', 'server', { ...API, action: 'ALLOW', rules: [{ from: [{ source: { principals: ['cluster.local/ns/client/sa/caller'] } }] }] }));
      await lab.advance(10_000);
      expect((await callerToApi(lab)).share).toBe(0);
    },
  },
  {
    name: 'ambient: a DISABLE PeerAuthentication is ignored: ztunnel keeps mTLS',
    mesh: 'istio',
    mode: 'ambient',
    source: 'istio.io ambient/usage/l4-policy: PeerAuthentication DISABLE is ignored in ambient (ztunnel and HBONE always use mTLS)',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(PA('off', 'server', { mtls: { mode: 'DISABLE' } }));
      await lab.advance(10_000);
      const start = lab.now;
      await callerToApi(lab);
      expect(lab.increase('istio_tcp_connections_opened_total', { reporter: 'destination', connection_security_policy: 'mutual_tls' }, start)).toBeGreaterThan(0);
    },
  },
  // --- the API server's ServiceAccount admission ---
  {
    name: 'kubernetes: a pod whose ServiceAccount does not exist is refused, and its Deployment reports FailedCreate',
    mesh: 'istio',
    source: 'kubernetes.io docs reference/access-authn-authz/admission-controllers "ServiceAccount": pods must name an existing account',
    run: async (lab) => {
      await lab.apply({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'ghost', namespace: 'server' }, spec: { replicas: 1, selector: { matchLabels: { app: 'ghost' } }, template: { metadata: { labels: { app: 'ghost' } }, spec: { serviceAccountName: 'nobody', containers: [{ name: 'ghost', image: 'ghost:1' }] } } } });
      await lab.advance(10_000);
      expect(lab.pods('server').filter((p) => p.metadata.labels?.['app'] === 'ghost')).toHaveLength(0);
      const events = lab.lab.cluster.api.list(lab.lab.cluster.api.types.all().find((t) => t.resource === 'events')!, 'server').map((e) => String(e['message']));
      expect(events.some((m) => m.includes('error looking up service account server/nobody: serviceaccount "nobody" not found'))).toBe(true);
    },
  },
];

const LSRV = (name: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'policy.linkerd.io/v1beta3', kind: 'Server', metadata: { name, namespace: 'server' }, spec: { podSelector: { matchLabels: { app: 'api' } }, ...spec } });
const LAUTHZ = (name: string, targetRef: Record<string, unknown>, refs: Array<Record<string, unknown>>): KubeObject => ({ apiVersion: 'policy.linkerd.io/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name, namespace: 'server' }, spec: { targetRef, requiredAuthenticationRefs: refs } });
const MTLSAUTHN = (name: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'policy.linkerd.io/v1alpha1', kind: 'MeshTLSAuthentication', metadata: { name, namespace: 'server' }, spec });
const TO_SERVER = { group: 'policy.linkerd.io', kind: 'Server', name: 'api-http' };
const BY_MTLS = (name: string) => ({ group: 'policy.linkerd.io', kind: 'MeshTLSAuthentication', name });

const LINKERD: BehaviourCase[] = [
  {
    name: 'linkerd: a workload runs as its own ServiceAccount, and its identity carries it',
    mesh: 'linkerd',
    source: 'linkerd.io reference/architecture "identity": <sa>.<ns>.serviceaccount.identity.linkerd.<trust domain>',
    run: async (lab) => {
      await meshAll(lab);
      const start = lab.now;
      await callerToApi(lab);
      expect(lab.increase('response_total', { direction: 'inbound', client_id: 'caller.client.serviceaccount.identity.linkerd.cluster.local' }, start)).toBeGreaterThan(0);
    },
  },
  {
    name: 'linkerd: a MeshTLSAuthentication naming the caller\'s identity authorizes it, and only it',
    mesh: 'linkerd',
    source: 'linkerd.io reference/authorization-policy MeshTLSAuthentication.identities',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(LSRV('api-http', { port: 8080, proxyProtocol: 'HTTP/1' }));
      await lab.apply(MTLSAUTHN('caller', { identities: ['caller.client.serviceaccount.identity.linkerd.cluster.local'] }));
      await lab.apply(LAUTHZ('caller-only', TO_SERVER, [BY_MTLS('caller')]));
      await lab.advance(10_000);
      expect((await callerToApi(lab)).share).toBe(1);
      expect(Object.keys((await lab.window(10 * MIN, 'client/rare', 'server/api')).codes)).toEqual(['403']);
    },
  },
  {
    name: 'linkerd: a MeshTLSAuthentication naming the wrong identity authorizes nobody',
    mesh: 'linkerd',
    source: 'linkerd.io reference/authorization-policy: a Server denies what no AuthorizationPolicy authorizes',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(LSRV('api-http', { port: 8080 }));
      await lab.apply(MTLSAUTHN('typo', { identities: ['caller.clients.serviceaccount.identity.linkerd.cluster.local'] }));
      await lab.apply(LAUTHZ('caller-only', TO_SERVER, [BY_MTLS('typo')]));
      await lab.advance(10_000);
      expect(Object.keys((await callerToApi(lab)).codes)).toEqual(['403']);
    },
  },
  {
    name: 'linkerd: identities with a "*." prefix match every identity in that domain',
    mesh: 'linkerd',
    source: 'policy.linkerd.io MeshTLSAuthentication CRD: "The * prefix can be used to match all identities in a domain"',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(LSRV('api-http', { port: 8080 }));
      await lab.apply(MTLSAUTHN('client-ns', { identities: ['*.client.serviceaccount.identity.linkerd.cluster.local'] }));
      await lab.apply(LAUTHZ('client-ns', TO_SERVER, [BY_MTLS('client-ns')]));
      await lab.advance(10_000);
      expect((await callerToApi(lab)).share).toBe(1);
      expect((await lab.window(10 * MIN, 'client/rare', 'server/api')).share).toBe(1);
    },
  },
  {
    name: 'linkerd: identityRefs to a ServiceAccount authorize that account only',
    mesh: 'linkerd',
    source: 'linkerd.io reference/authorization-policy MeshTLSAuthentication.identityRefs (kind ServiceAccount)',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(LSRV('api-http', { port: 8080 }));
      await lab.apply(MTLSAUTHN('caller-sa', { identityRefs: [{ kind: 'ServiceAccount', name: 'caller', namespace: 'client' }] }));
      await lab.apply(LAUTHZ('caller-sa', TO_SERVER, [BY_MTLS('caller-sa')]));
      await lab.advance(10_000);
      expect((await callerToApi(lab)).share).toBe(1);
      expect(Object.keys((await lab.window(10 * MIN, 'client/rare', 'server/api')).codes)).toEqual(['403']);
    },
  },
  {
    name: 'linkerd: identityRefs to a Namespace authorize every account in it',
    mesh: 'linkerd',
    source: 'linkerd.io reference/authorization-policy MeshTLSAuthentication.identityRefs (kind Namespace)',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(LSRV('api-http', { port: 8080 }));
      await lab.apply(MTLSAUTHN('client-ns', { identityRefs: [{ kind: 'Namespace', name: 'client' }] }));
      await lab.apply(LAUTHZ('client-ns', TO_SERVER, [BY_MTLS('client-ns')]));
      await lab.advance(10_000);
      expect((await lab.window(10 * MIN, 'client/rare', 'server/api')).share).toBe(1);
      expect(Object.keys((await lab.window(2 * MIN, 'legacy/batch', 'server/api')).codes)).toEqual(['403']);
    },
  },
  {
    name: 'linkerd: requiredAuthenticationRefs may name a ServiceAccount directly',
    mesh: 'linkerd',
    source: 'linkerd.io reference/authorization-policy AuthorizationPolicy.requiredAuthenticationRefs (ServiceAccount)',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(LSRV('api-http', { port: 8080 }));
      await lab.apply(LAUTHZ('caller-sa', TO_SERVER, [{ kind: 'ServiceAccount', name: 'caller', namespace: 'client' }]));
      await lab.advance(10_000);
      expect((await callerToApi(lab)).share).toBe(1);
      expect(Object.keys((await lab.window(10 * MIN, 'client/rare', 'server/api')).codes)).toEqual(['403']);
    },
  },
  {
    name: 'linkerd: a Server selecting the port by its name applies, and with no authorization denies',
    mesh: 'linkerd',
    source: 'linkerd.io reference/authorization-policy Server.port: "A port name or number. Only ports in a pod spec\'s ports are considered"',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(LSRV('api-http', { port: 'http' }));
      await lab.advance(10_000);
      expect(Object.keys((await callerToApi(lab)).codes)).toEqual(['403']);
    },
  },
  {
    name: 'linkerd: a Server naming a port the pod does not have selects nothing: the default policy applies',
    mesh: 'linkerd',
    source: 'linkerd.io reference/authorization-policy Server.port (only ports in the pod spec)',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(LSRV('api-admin', { port: 'admin-http' }));
      await lab.advance(10_000);
      expect((await callerToApi(lab)).share).toBe(1);
    },
  },
  {
    name: 'linkerd: a Server\'s accessPolicy all-unauthenticated lets everything in without an AuthorizationPolicy',
    mesh: 'linkerd',
    source: 'linkerd.io reference/authorization-policy Server.accessPolicy (default deny)',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(LSRV('api-http', { port: 8080, accessPolicy: 'all-unauthenticated' }));
      await lab.advance(10_000);
      expect((await lab.window(2 * MIN, 'legacy/batch', 'server/api')).share).toBe(1);
    },
  },
  {
    name: 'linkerd: a Server\'s accessPolicy all-authenticated admits meshed clients and denies plaintext',
    mesh: 'linkerd',
    source: 'linkerd.io reference/authorization-policy Server.accessPolicy; default policies "all-authenticated"',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(LSRV('api-http', { port: 8080, accessPolicy: 'all-authenticated' }));
      await lab.advance(10_000);
      expect((await callerToApi(lab)).share).toBe(1);
      expect(Object.keys((await lab.window(2 * MIN, 'legacy/batch', 'server/api')).codes)).toEqual(['403']);
    },
  },
  {
    name: 'linkerd: a NetworkAuthentication of the pod network authorizes plaintext callers in it',
    mesh: 'linkerd',
    source: 'linkerd.io reference/authorization-policy NetworkAuthentication.networks (cidr, except)',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(LSRV('api-http', { port: 8080 }));
      await lab.apply({ apiVersion: 'policy.linkerd.io/v1alpha1', kind: 'NetworkAuthentication', metadata: { name: 'pods', namespace: 'server' }, spec: { networks: [{ cidr: '10.244.0.0/16' }] } });
      await lab.apply(LAUTHZ('pods', TO_SERVER, [{ group: 'policy.linkerd.io', kind: 'NetworkAuthentication', name: 'pods' }]));
      await lab.advance(10_000);
      expect((await lab.window(2 * MIN, 'legacy/batch', 'server/api')).share).toBe(1);
    },
  },
  {
    name: 'linkerd: a NetworkAuthentication network with the caller in "except" does not authorize it',
    mesh: 'linkerd',
    source: 'linkerd.io reference/authorization-policy NetworkAuthentication.networks[].except',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(LSRV('api-http', { port: 8080 }));
      await lab.apply({ apiVersion: 'policy.linkerd.io/v1alpha1', kind: 'NetworkAuthentication', metadata: { name: 'pods', namespace: 'server' }, spec: { networks: [{ cidr: '0.0.0.0/0', except: ['10.244.0.0/16'] }] } });
      await lab.apply(LAUTHZ('pods', TO_SERVER, [{ group: 'policy.linkerd.io', kind: 'NetworkAuthentication', name: 'pods' }]));
      await lab.advance(10_000);
      expect(Object.keys((await lab.window(2 * MIN, 'legacy/batch', 'server/api')).codes)).toEqual(['403']);
    },
  },
  {
    name: 'linkerd: every requiredAuthenticationRef must hold (mTLS and network together)',
    mesh: 'linkerd',
    source: 'linkerd.io reference/authorization-policy: requiredAuthenticationRefs "all of which must be satisfied"',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(LSRV('api-http', { port: 8080 }));
      await lab.apply(MTLSAUTHN('any', { identities: ['*'] }));
      await lab.apply({ apiVersion: 'policy.linkerd.io/v1alpha1', kind: 'NetworkAuthentication', metadata: { name: 'elsewhere', namespace: 'server' }, spec: { networks: [{ cidr: '192.168.0.0/16' }] } });
      await lab.apply(LAUTHZ('both', TO_SERVER, [BY_MTLS('any'), { group: 'policy.linkerd.io', kind: 'NetworkAuthentication', name: 'elsewhere' }]));
      await lab.advance(10_000);
      expect(Object.keys((await callerToApi(lab)).codes)).toEqual(['403']);
    },
  },
  {
    name: 'linkerd: an AuthorizationPolicy targeting the Namespace applies to its Servers',
    mesh: 'linkerd',
    source: 'linkerd.io reference/authorization-policy AuthorizationPolicy.targetRef (kind Namespace)',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(LSRV('api-http', { port: 8080 }));
      await lab.apply(MTLSAUTHN('any', { identities: ['*'] }));
      await lab.apply(LAUTHZ('ns-wide', { kind: 'Namespace', name: 'server' }, [BY_MTLS('any')]));
      await lab.advance(10_000);
      expect((await callerToApi(lab)).share).toBe(1);
    },
  },
  {
    name: 'linkerd: a legacy ServerAuthorization with unauthenticated: true lets plaintext in',
    mesh: 'linkerd',
    source: 'linkerd.io 2.11 reference/authorization-policy ServerAuthorization.client.unauthenticated',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(LSRV('api-http', { port: 8080 }));
      await lab.apply({ apiVersion: 'policy.linkerd.io/v1beta1', kind: 'ServerAuthorization', metadata: { name: 'open', namespace: 'server' }, spec: { server: { name: 'api-http' }, client: { unauthenticated: true } } });
      await lab.advance(10_000);
      expect((await lab.window(2 * MIN, 'legacy/batch', 'server/api')).share).toBe(1);
    },
  },
  {
    name: 'linkerd: a legacy ServerAuthorization by serviceAccounts authorizes only those',
    mesh: 'linkerd',
    source: 'linkerd.io 2.11 reference/authorization-policy ServerAuthorization.client.meshTLS.serviceAccounts',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(LSRV('api-http', { port: 8080 }));
      await lab.apply({ apiVersion: 'policy.linkerd.io/v1beta1', kind: 'ServerAuthorization', metadata: { name: 'caller', namespace: 'server' }, spec: { server: { name: 'api-http' }, client: { meshTLS: { serviceAccounts: [{ name: 'caller', namespace: 'client' }] } } } });
      await lab.advance(10_000);
      expect((await callerToApi(lab)).share).toBe(1);
      expect(Object.keys((await lab.window(10 * MIN, 'client/rare', 'server/api')).codes)).toEqual(['403']);
    },
  },
  {
    name: 'linkerd: with HTTPRoutes on a Server, a request no route matches gets 404',
    mesh: 'linkerd',
    topology: WITH_REQUESTS,
    source: 'linkerd.io reference/httproute: a Server with routes answers requests matching no route with 404',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(LSRV('api-http', { port: 8080, accessPolicy: 'all-unauthenticated' }));
      await lab.apply({ apiVersion: 'policy.linkerd.io/v1beta3', kind: 'HTTPRoute', metadata: { name: 'items', namespace: 'server' }, spec: { parentRefs: [{ group: 'policy.linkerd.io', kind: 'Server', name: 'api-http' }], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/items' } }] }] } });
      await lab.advance(10_000);
      const seen = await callerToApi(lab);
      expect(seen.codes['404']! / seen.total).toBeCloseTo(0.1, 5);
    },
  },
  {
    name: 'linkerd: an AuthorizationPolicy on an HTTPRoute authorizes the requests of that route',
    mesh: 'linkerd',
    topology: WITH_REQUESTS,
    source: 'linkerd.io features/server-policy "per-route policy": AuthorizationPolicy targetRef HTTPRoute',
    run: async (lab) => {
      await meshAll(lab);
      await lab.apply(LSRV('api-http', { port: 8080 }));
      await lab.apply({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'reads', namespace: 'server' }, spec: { parentRefs: [{ group: 'policy.linkerd.io', kind: 'Server', name: 'api-http' }], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' }, method: 'GET' }] }] } });
      await lab.apply(MTLSAUTHN('any', { identities: ['*'] }));
      await lab.apply(LAUTHZ('reads', { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'reads' }, [BY_MTLS('any')]));
      await lab.advance(10_000);
      const seen = await callerToApi(lab);
      // DELETE matches no route (404); every GET is authorized on its route.
      expect(seen.share).toBeCloseTo(0.9, 5);
      expect(seen.codes['404']! / seen.total).toBeCloseTo(0.1, 5);
    },
  },
  {
    name: 'linkerd: default policy cluster-unauthenticated admits in-cluster plaintext and refuses the outside',
    mesh: 'linkerd',
    source: 'linkerd.io reference/authorization-policy default policies "cluster-unauthenticated" (clusterNetworks)',
    run: async (lab) => {
      await lab.lab.kube.mergePatch('v1', 'Namespace', undefined, 'client', { metadata: { annotations: { 'config.linkerd.io/default-inbound-policy': 'cluster-unauthenticated' } } });
      await lab.mesh('client');
      const seen = await lab.window(2 * MIN, 'external', 'client/caller');
      expect(Object.keys(seen.codes)).toEqual(['403']);
    },
  },
];

/** server's namespace sends its traffic through a waypoint (istio.io ambient/usage/waypoint). */
async function withWaypoint(lab: Lab): Promise<void> {
  await lab.apply({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'waypoint', namespace: 'server' }, spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] } });
  await lab.lab.kube.mergePatch('v1', 'Namespace', undefined, 'server', { metadata: { labels: { 'istio.io/use-waypoint': 'waypoint' } } });
  await lab.advance(10_000);
}
const AT_WAYPOINT = { targetRefs: [{ kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'waypoint' }] };

const WAYPOINT: BehaviourCase[] = [
  {
    name: 'ambient: a waypoint enforces the L7 policy attached to it: GET-only lets the GETs through, POST-only answers them 403',
    mesh: 'istio',
    mode: 'ambient',
    source: 'istio.io ambient/usage/l7-features: policies targeting the waypoint (targetRefs kind Gateway) are enforced with L7 attributes; a denied request gets HTTP 403 ("RBAC: access denied")',
    run: async (lab) => {
      await meshAll(lab);
      await withWaypoint(lab);
      await lab.apply(AP('methods', 'server', { ...AT_WAYPOINT, action: 'ALLOW', rules: [{ to: [{ operation: { methods: ['GET'] } }] }] }));
      await lab.advance(10_000);
      expect((await callerToApi(lab)).share).toBe(1);
      await lab.apply(AP('methods', 'server', { ...AT_WAYPOINT, action: 'ALLOW', rules: [{ to: [{ operation: { methods: ['POST'] } }] }] }));
      await lab.advance(10_000);
      expect(Object.keys((await callerToApi(lab)).codes)).toEqual(['403']);
    },
  },
  {
    name: 'ambient: behind a waypoint the destination ztunnel sees the waypoint\'s identity: an L4 ALLOW for the caller\'s principal refuses it',
    mesh: 'istio',
    mode: 'ambient',
    source: 'istio.io ambient/usage/l4-policy: with a waypoint, policies enforced at the destination ztunnel see the waypoint as the source',
    run: async (lab) => {
      await meshAll(lab);
      await withWaypoint(lab);
      await lab.apply(AP('caller-only', 'server', { ...API, action: 'ALLOW', rules: [{ from: [{ source: { principals: ['cluster.local/ns/client/sa/caller'] } }] }] }));
      await lab.advance(10_000);
      expect((await callerToApi(lab)).share).toBe(0);
      await lab.apply(AP('caller-only', 'server', { ...API, action: 'ALLOW', rules: [{ from: [{ source: { principals: ['cluster.local/ns/server/sa/waypoint'] } }] }] }));
      await lab.advance(10_000);
      expect((await callerToApi(lab)).share).toBe(1);
    },
  },
];

behaviourTable('mesh twin: identities and request-level authorization', [...ISTIO, ...LINKERD, ...WAYPOINT]);
