import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { documentsOfKind, loadConfig } from '../../test/helpers/cli.js';
import { manifestsOfText } from './manifests.js';
import { runRules } from './rules.js';

// The shop's topology (examples/shop): payments/api calls payments/ledger, legacy is never meshed.
const SHOP = join(import.meta.dirname, '..', '..', 'examples', 'shop');
const topology = documentsOfKind(await loadConfig(SHOP), 'Topology')[0]!.data;
const MESHED = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: payments\n  labels:\n    istio-injection: enabled\n---\n';

function findings(yaml: string, rule: string, base?: string) {
  const manifests = manifestsOfText('repo.yaml', MESHED + yaml).manifests;
  return runRules({ manifests, topology, ...(base !== undefined ? { base: manifestsOfText('repo.yaml', MESHED + base).manifests } : {}) })
    .filter((f) => f.rule === rule)
    .map((f) => `${f.line}:${f.col} ${f.severity} ${f.message}`);
}

describe('policy-effect and analyzer rules', () => {
  it('MD110: a DENY on a namespace whose callers are plaintext matches nobody', () => {
    const yaml = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: no-legacy, namespace: payments}
spec:
  action: DENY
  rules:
    - from:
        - source:
            namespaces: [legacy]
`;
    expect(findings(yaml, 'MD110')).toEqual(['16:26 warning AuthorizationPolicy payments/no-legacy rule 0 names source namespace legacy, whose workloads are not meshed: their plaintext calls carry no namespace, so the rule matches none of them and denies nothing']);
  });

  it('MD110: a selector no pod has, a principal nobody runs as, a Linkerd identity nobody has; not a real one', () => {
    const yaml = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: api, namespace: payments}
spec:
  selector:
    matchLabels: {app: apii}
  rules:
    - from:
        - source:
            principals: [cluster.local/ns/checkout/sa/api, cluster.local/ns/checkout/sa/checkout-api]
---
apiVersion: policy.linkerd.io/v1alpha1
kind: MeshTLSAuthentication
metadata: {name: callers, namespace: payments}
spec:
  identities: [api.checkout.serviceaccount.identity.linkerd.cluster.local, web.checkout.serviceaccount.identity.linkerd.cluster.local]
`;
    expect(findings(yaml, 'MD110')).toEqual([
      '13:5 warning AuthorizationPolicy payments/api selects no workload: no pod in payments has app=apii',
      '17:60 warning AuthorizationPolicy payments/api rule 0 names principal cluster.local/ns/checkout/sa/checkout-api, which no workload runs as (no pod in checkout uses ServiceAccount checkout-api)',
      '23:76 warning MeshTLSAuthentication payments/callers names identity web.checkout.serviceaccount.identity.linkerd.cluster.local, which no workload has (no pod in checkout uses ServiceAccount web)',
    ]);
  });

  it('MD109: PERMISSIVE where the base was STRICT is an emergency relaxation; PERMISSIVE that always was is not', () => {
    const pa = (mode: string) => `apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: payments}\nspec:\n  mtls:\n    mode: ${mode}\n`;

    expect(findings(pa('PERMISSIVE'), 'MD109', pa('STRICT'))).toEqual(['13:5 warning PeerAuthentication payments/default relaxes payments from STRICT to PERMISSIVE: if this is an emergency, open the issue that takes it back out']);
    expect(findings(pa('PERMISSIVE'), 'MD109', pa('PERMISSIVE'))).toEqual([]);
    expect(findings(pa('DISABLE'), 'MD109')).toEqual([]);
  });

  it('MD111, MD113, MD116: a routing loop, a route to nothing, a route after a catch-all', () => {
    const yaml = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: api, namespace: payments}
spec:
  hosts: [api]
  gateways: [shop-gateway, mesh]
  http:
    - route: [{destination: {host: ledger}}]
    - match: [{uri: {prefix: /v2}}]
      route: [{destination: {host: ledgr}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ledger, namespace: payments}
spec:
  hosts: [ledger.payments.svc.cluster.local]
  http:
    - route: [{destination: {host: api.payments}}]
`;
    expect(findings(yaml, 'MD111')).toEqual(['14:3 error VirtualServices route in a loop: api.payments.svc.cluster.local → ledger.payments.svc.cluster.local → api.payments.svc.cluster.local']);
    expect(findings(yaml, 'MD113')).toEqual([
      '13:14 warning VirtualService payments/api is bound to gateway payments/shop-gateway, which the repo does not define',
      '17:30 warning VirtualService payments/api routes to ledgr, which is no Service in the repo or the topology (requests would get 503 NR)',
    ]);
    expect(findings(yaml, 'MD116')).toEqual(['16:7 warning VirtualService payments/api: http route 0 matches every request, so the route after it never matches']);
  });

  it('MD113: a subset no DestinationRule defines, a DestinationRule for a host that does not exist', () => {
    const yaml = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: api, namespace: payments}
spec:
  hosts: [api]
  http:
    - route: [{destination: {host: api, subset: v3}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: apii, namespace: payments}
spec:
  host: apii
`;
    expect(findings(yaml, 'MD113')).toEqual([
      '14:41 warning VirtualService payments/api routes to subset v3 of api, which no DestinationRule defines (requests would get 503 NC)',
      '20:3 warning DestinationRule payments/apii is for apii, which is no Service in the repo or the topology',
    ]);
  });

  it('MD114, MD115: a subset no pod has, two DestinationRules for one host', () => {
    const dr = (name: string) => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${name}, namespace: payments}
spec:
  host: api
  subsets:
    - {name: v1, labels: {app: api}}
    - {name: v2, labels: {version: v2}}
`;
    expect(findings(`${dr('api')}---\n${dr('api-tls')}`, 'MD114')).toHaveLength(2);
    expect(findings(dr('api'), 'MD114')).toEqual(['15:18 warning DestinationRule payments/api subset v2 selects no pod of api.payments (version=v2): routes to it get 503']);
    expect(findings(`${dr('api')}---\n${dr('api-tls')}`, 'MD115')).toEqual(['21:3 warning DestinationRules api and api-tls in payments both configure api.payments.svc.cluster.local: Istio merges only top-level fields and keeps the oldest for the rest']);
  });

  it('MD117: a meshed Service port that names no protocol', () => {
    const yaml = `apiVersion: v1
kind: Service
metadata: {name: api, namespace: payments}
spec:
  ports:
    - {name: web, port: 8080}
    - {name: http-metrics, port: 9090}
    - {port: 8443, appProtocol: https}
`;
    expect(findings(yaml, 'MD117')).toEqual(['13:8 info Service payments/api port 8080 (web) names no protocol and has no appProtocol: Istio may treat it as TCP (name it http-…, grpc-…, or set appProtocol)']);
  });
});
