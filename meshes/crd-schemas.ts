// Structural openAPIV3Schemas for the mesh CRDs the embedded cluster installs, written from the
// reference pages of each kind (istio.io reference/config/{security,networking}/…, linkerd.io
// reference/authorization-policy, httproute; gateway-api.sigs.k8s.io HTTPRoute). The API server
// enforces them as a real one does: types, enums, required fields, unknown fields. Where a
// subtree is not described here it is left open (x-kubernetes-preserve-unknown-fields), and the
// twin reports what it does not model.

type Schema = Record<string, unknown>;

const open = (): Schema => ({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
const str = (extra: Schema = {}): Schema => ({ type: 'string', ...extra });
const enumOf = (...values: string[]): Schema => ({ type: 'string', enum: values });
const int = (extra: Schema = {}): Schema => ({ type: 'integer', ...extra });
const bool = (): Schema => ({ type: 'boolean' });
const num = (): Schema => ({ type: 'number' });
const arr = (items: Schema, extra: Schema = {}): Schema => ({ type: 'array', items, ...extra });
const strings = (): Schema => arr(str());
const map = (values: Schema): Schema => ({ type: 'object', additionalProperties: values });
const obj = (properties: Record<string, Schema>, required: string[] = []): Schema => ({ type: 'object', properties, ...(required.length ? { required } : {}) });
const intOrString = (): Schema => ({ 'x-kubernetes-int-or-string': true });
/** An Istio Duration ("1s", "500ms"). */
const duration = (): Schema => str({ pattern: '^(\\d+(\\.\\d+)?(h|m|s|ms|us|µs|ns))+$' });

const labelSelector = (): Schema => obj({ matchLabels: map(str()), matchExpressions: arr(obj({ key: str(), operator: enumOf('In', 'NotIn', 'Exists', 'DoesNotExist'), values: strings() }, ['key', 'operator'])) });
const workloadSelector = (): Schema => obj({ matchLabels: map(str()) });
const policyTargetRef = (): Schema => obj({ group: str(), kind: str(), name: str(), namespace: str() }, ['kind', 'name']);
const stringMatch = (): Schema => ({ ...obj({ exact: str(), prefix: str(), regex: str() }), maxProperties: 1 });
const percent = (): Schema => obj({ value: num() });

/** The envelope every custom resource shares: spec as described, status open. */
function resource(spec: Schema): Schema {
  return { type: 'object', properties: { spec, status: open() } };
}

const peerAuthentication = resource(
  obj({
    selector: workloadSelector(),
    mtls: obj({ mode: enumOf('UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT') }),
    portLevelMtls: map(obj({ mode: enumOf('UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT') })),
  }),
);

const authorizationPolicy = resource(
  obj({
    selector: workloadSelector(),
    targetRef: policyTargetRef(),
    targetRefs: arr(policyTargetRef()),
    action: enumOf('ALLOW', 'DENY', 'AUDIT', 'CUSTOM'),
    provider: obj({ name: str() }),
    rules: arr(
      obj({
        from: arr(obj({ source: obj(Object.fromEntries(['principals', 'notPrincipals', 'requestPrincipals', 'notRequestPrincipals', 'namespaces', 'notNamespaces', 'ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks', 'serviceAccounts', 'notServiceAccounts'].map((f) => [f, strings()]))) })),
        to: arr(obj({ operation: obj(Object.fromEntries(['hosts', 'notHosts', 'ports', 'notPorts', 'methods', 'notMethods', 'paths', 'notPaths'].map((f) => [f, strings()]))) })),
        when: arr(obj({ key: str(), values: strings(), notValues: strings() }, ['key'])),
      }),
    ),
  }),
);

const destination = (): Schema => obj({ host: str(), subset: str(), port: obj({ number: int({ minimum: 0, maximum: 4294967295 }) }) }, ['host']);

const httpRoute = obj({
  name: str(),
  match: arr(
    obj({
      name: str(),
      uri: stringMatch(),
      scheme: stringMatch(),
      method: stringMatch(),
      authority: stringMatch(),
      headers: map(stringMatch()),
      port: int({ minimum: 0, maximum: 4294967295 }),
      sourceLabels: map(str()),
      gateways: strings(),
      queryParams: map(stringMatch()),
      ignoreUriCase: bool(),
      withoutHeaders: map(stringMatch()),
      sourceNamespace: str(),
      statPrefix: str(),
    }),
  ),
  route: arr(obj({ destination: destination(), weight: int(), headers: open() }, ['destination'])),
  redirect: obj({ uri: str(), authority: str(), port: int(), derivePort: enumOf('FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT'), scheme: str(), redirectCode: int() }),
  directResponse: obj({ status: int(), body: obj({ string: str(), bytes: str() }) }, ['status']),
  delegate: obj({ name: str(), namespace: str() }),
  rewrite: obj({ uri: str(), authority: str(), uriRegexRewrite: obj({ match: str(), rewrite: str() }) }),
  timeout: duration(),
  retries: obj({ attempts: int(), perTryTimeout: duration(), retryOn: str(), retryRemoteLocalities: bool(), retryIgnorePreviousHosts: bool(), backoff: duration() }),
  fault: obj({
    delay: obj({ fixedDelay: duration(), exponentialDelay: duration(), percentage: percent(), percent: int() }),
    abort: obj({ httpStatus: int(), grpcStatus: str(), http2Error: str(), percentage: percent() }),
  }),
  mirror: destination(),
  mirrorPercentage: percent(),
  mirrorPercent: int(),
  mirrors: arr(obj({ destination: destination(), percentage: percent() }, ['destination'])),
  corsPolicy: open(),
  headers: open(),
});

const virtualService = resource(obj({ hosts: strings(), gateways: strings(), exportTo: strings(), http: arr(httpRoute), tls: arr(open()), tcp: arr(open()) }));

const tlsSettings = (): Schema =>
  obj({
    mode: enumOf('DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL'),
    clientCertificate: str(),
    privateKey: str(),
    caCertificates: str(),
    caCrl: str(),
    credentialName: str(),
    subjectAltNames: strings(),
    sni: str(),
    insecureSkipVerify: bool(),
  });

const portPolicy = (): Schema => ({
  loadBalancer: open(),
  connectionPool: obj({
    tcp: obj({ maxConnections: int(), connectTimeout: duration(), tcpKeepalive: open(), maxConnectionDuration: duration(), idleTimeout: duration() }),
    http: obj({ http1MaxPendingRequests: int(), http2MaxRequests: int(), maxRequestsPerConnection: int(), maxRetries: int(), idleTimeout: duration(), h2UpgradePolicy: enumOf('DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE'), useClientProtocol: bool(), maxConcurrentStreams: int() }),
  }),
  outlierDetection: obj({ consecutiveErrors: int(), consecutive5xxErrors: int({ minimum: 0, maximum: 4294967295 }), consecutiveGatewayErrors: int({ minimum: 0, maximum: 4294967295 }), consecutiveLocalOriginFailures: int(), splitExternalLocalOriginErrors: bool(), interval: duration(), baseEjectionTime: duration(), maxEjectionPercent: int(), minHealthPercent: int() }),
  tls: tlsSettings(),
});

const trafficPolicy = (): Schema => obj({ ...portPolicy(), portLevelSettings: arr(obj({ port: obj({ number: int() }), ...portPolicy() })), tunnel: open(), proxyProtocol: open() });

const destinationRule = resource(
  obj({ host: str(), trafficPolicy: trafficPolicy(), subsets: arr(obj({ name: str(), labels: map(str()), trafficPolicy: trafficPolicy() }, ['name'])), exportTo: strings(), workloadSelector: workloadSelector() }, ['host']),
);

const sidecar = resource(
  obj({
    workloadSelector: workloadSelector(),
    ingress: arr(open()),
    egress: arr(obj({ port: open(), bind: str(), captureMode: enumOf('DEFAULT', 'IPTABLES', 'NONE'), hosts: strings() }, ['hosts'])),
    outboundTrafficPolicy: obj({ mode: enumOf('REGISTRY_ONLY', 'ALLOW_ANY'), egressProxy: open() }),
    inboundConnectionPool: open(),
  }),
);

const linkerdServer = resource(
  obj(
    {
      podSelector: labelSelector(),
      externalWorkloadSelector: labelSelector(),
      port: intOrString(),
      proxyProtocol: enumOf('unknown', 'HTTP/1', 'HTTP/2', 'gRPC', 'opaque', 'TLS'),
      accessPolicy: enumOf('all-unauthenticated', 'all-authenticated', 'cluster-authenticated', 'cluster-unauthenticated', 'deny', 'audit'),
    },
    ['port'],
  ),
);

const linkerdRef = (): Schema => obj({ group: str(), kind: str(), name: str(), namespace: str() }, ['kind']);
const network = (): Schema => obj({ cidr: str(), except: strings() }, ['cidr']);

const linkerdAuthorizationPolicy = resource(obj({ targetRef: obj({ group: str(), kind: str(), name: str(), namespace: str() }, ['kind', 'name']), requiredAuthenticationRefs: arr(linkerdRef()) }, ['targetRef', 'requiredAuthenticationRefs']));
const meshTlsAuthentication = resource(obj({ identities: strings(), identityRefs: arr(linkerdRef()) }));
const networkAuthentication = resource(obj({ networks: arr(network()) }, ['networks']));
const serverAuthorization = resource(
  obj(
    {
      server: obj({ name: str(), selector: labelSelector() }),
      client: obj({ networks: arr(network()), unauthenticated: bool(), meshTLS: obj({ unauthenticatedTLS: bool(), identities: strings(), serviceAccounts: arr(obj({ name: str(), namespace: str() }, ['name'])) }) }),
    },
    ['server', 'client'],
  ),
);

const gatewayHttpRoute = resource(
  obj({
    parentRefs: arr(obj({ group: str(), kind: str(), namespace: str(), name: str(), sectionName: str(), port: int() }, ['name'])),
    hostnames: strings(),
    rules: arr(
      obj({
        name: str(),
        matches: arr(
          obj({
            path: obj({ type: enumOf('Exact', 'PathPrefix', 'RegularExpression'), value: str() }),
            headers: arr(obj({ type: enumOf('Exact', 'RegularExpression'), name: str(), value: str() }, ['name', 'value'])),
            queryParams: arr(obj({ type: enumOf('Exact', 'RegularExpression'), name: str(), value: str() }, ['name', 'value'])),
            method: enumOf('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'),
          }),
        ),
        filters: arr(open()),
        backendRefs: arr(open()),
        timeouts: open(),
        retry: open(),
        sessionPersistence: open(),
      }),
    ),
  }),
);

/** The schema a CRD of the embedded cluster's meshes enforces, by "group/Kind"; open for the rest. */
export const CRD_SCHEMAS: Record<string, Schema> = {
  'security.istio.io/PeerAuthentication': peerAuthentication,
  'security.istio.io/AuthorizationPolicy': authorizationPolicy,
  'networking.istio.io/VirtualService': virtualService,
  'networking.istio.io/DestinationRule': destinationRule,
  'networking.istio.io/Sidecar': sidecar,
  'policy.linkerd.io/Server': linkerdServer,
  'policy.linkerd.io/AuthorizationPolicy': linkerdAuthorizationPolicy,
  'policy.linkerd.io/MeshTLSAuthentication': meshTlsAuthentication,
  'policy.linkerd.io/NetworkAuthentication': networkAuthentication,
  'policy.linkerd.io/ServerAuthorization': serverAuthorization,
  'policy.linkerd.io/HTTPRoute': gatewayHttpRoute,
  'gateway.networking.k8s.io/HTTPRoute': gatewayHttpRoute,
};

export function crdSchema(group: string, kind: string): Schema {
  return CRD_SCHEMAS[`${group}/${kind}`] ?? open();
}
