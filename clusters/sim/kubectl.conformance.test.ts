import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectlAvailable, kubectlFor, type KubectlResult } from '../../test/helpers/kubectl.js';
import { startSimCluster, type SimCluster } from './index.js';

// The real kubectl from this machine against the embedded cluster, in real time with a short
// pod start delay so that rollout status and wait finish on their own.
const hasKubectl = await kubectlAvailable();

describe.skipIf(!hasKubectl)('embedded cluster with the real kubectl', () => {
  let cluster: SimCluster;
  let kubectl: (args: string[], input?: string) => Promise<KubectlResult>;

  beforeAll(async () => {
    cluster = await startSimCluster({ time: 'real', podStartDelayMs: 20, nodes: 2 });
    kubectl = await kubectlFor(cluster.kubeconfig);
  });
  afterAll(async () => {
    await cluster.close();
  });

  async function ok(args: string[], input?: string): Promise<string> {
    const result = await kubectl(args, input);
    expect(result, `kubectl ${args.join(' ')}\n${result.stderr}`).toMatchObject({ code: 0 });
    return result.stdout;
  }

  it('lists nodes and namespaces as tables, -o wide and -o json', async () => {
    const nodes = await ok(['get', 'nodes']);
    const wide = await ok(['get', 'nodes', '-o', 'wide']);
    const json = JSON.parse(await ok(['get', 'namespaces', '-o', 'json'])) as { items: Array<{ metadata: { name: string } }> };

    expect(nodes.split('\n')[0]).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION$/);
    expect(nodes).toMatch(/sim-control-plane\s+Ready\s+control-plane/);
    expect(nodes).toMatch(/sim-worker2\s+Ready\s+<none>/);
    expect(wide).toContain('INTERNAL-IP');
    expect(json.items.map((n) => n.metadata.name)).toEqual(['default', 'kube-node-lease', 'kube-public', 'kube-system']);
  });

  it('creates a deployment that rolls out, and shows its pods in every output format', async () => {
    await ok(['create', 'namespace', 'shop']);
    await ok(['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=3', '-n', 'shop']);

    const status = await ok(['rollout', 'status', 'deployment/web', '-n', 'shop', '--timeout=20s']);
    const pods = await ok(['get', 'pods', '-A', '-l', 'app=web']);
    const yaml = await ok(['get', 'deployment', 'web', '-n', 'shop', '-o', 'yaml']);

    expect(status).toContain('deployment "web" successfully rolled out');
    expect(pods.split('\n')[0]).toMatch(/^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    expect(pods.match(/^shop\s+web-\w+-\w{5}\s+1\/1\s+Running\s+0\s+/gm)).toHaveLength(3);
    expect(yaml).toMatch(/availableReplicas: 3/);
    expect(yaml).toMatch(/observedGeneration: 1/);
  });

  it('describes a pod with its node, conditions and events', async () => {
    const name = (await ok(['get', 'pods', '-n', 'shop', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();

    const text = await ok(['describe', 'pod', name, '-n', 'shop']);

    expect(text).toMatch(/Node:\s+sim-worker2?\/172\.18\.0\.\d/);
    expect(text).toMatch(/Controlled By:\s+ReplicaSet\/web-/);
    expect(text).toMatch(/Ready\s+True/);
    expect(text).toMatch(/Normal\s+Scheduled\s+.*default-scheduler\s+Successfully assigned shop\//);
  });

  it('labels, annotates and selects by label with =, !=, in, notin and exists', async () => {
    await ok(['label', 'namespace', 'shop', 'istio-injection=enabled']);
    await ok(['annotate', 'deployment', 'web', '-n', 'shop', 'team=checkout']);
    await ok(['create', 'namespace', 'legacy']);

    const names = async (selector: string) => (await ok(['get', 'ns', '-l', selector, '-o', 'name'])).trim().split('\n').filter(Boolean);

    expect(await names('istio-injection=enabled')).toEqual(['namespace/shop']);
    expect(await names('istio-injection!=enabled')).toContain('namespace/legacy');
    expect(await names('kubernetes.io/metadata.name in (legacy,shop)')).toEqual(['namespace/legacy', 'namespace/shop']);
    expect(await names('kubernetes.io/metadata.name notin (legacy,shop,default,kube-system,kube-public)')).toEqual(['namespace/kube-node-lease']);
    expect(await names('istio-injection')).toEqual(['namespace/shop']);
    expect(await ok(['get', 'deployment', 'web', '-n', 'shop', '-o', 'jsonpath={.metadata.annotations.team}'])).toBe('checkout');
  });

  it('applies manifests client-side, re-applies changes, and applies server-side', async () => {
    const manifest = (replicas: number, value: string) => `
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart, namespace: shop}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: cart}}
  template:
    metadata: {labels: {app: cart}}
    spec:
      containers:
        - {name: cart, image: "shop/cart:1.0", env: [{name: MODE, value: "${value}"}], ports: [{containerPort: 8080}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {mode: "${value}"}
`;

    const first = await ok(['apply', '-f', '-'], manifest(2, 'a'));
    const second = await ok(['apply', '-f', '-'], manifest(3, 'b'));
    const serverSide = await ok(['apply', '--server-side', '-f', '-'], manifest(3, 'c'));
    const deployment = JSON.parse(await ok(['get', 'deployment', 'cart', '-n', 'shop', '-o', 'json'])) as { spec: { replicas: number; template: { spec: { containers: Array<{ env: unknown }> } } } };

    expect(first).toBe('deployment.apps/cart created\nconfigmap/settings created\n');
    expect(second).toBe('deployment.apps/cart configured\nconfigmap/settings configured\n');
    expect(serverSide).toBe('deployment.apps/cart serverside-applied\nconfigmap/settings serverside-applied\n');
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.template.spec.containers[0]?.env).toEqual([{ name: 'MODE', value: 'c' }]);
  });

  it('scales, waits for readiness, restarts a rollout and watches it finish', async () => {
    await ok(['scale', 'deployment', 'cart', '-n', 'shop', '--replicas=4']);
    await ok(['rollout', 'status', 'deployment/cart', '-n', 'shop', '--timeout=20s']);

    const waited = await ok(['wait', '--for=condition=Ready', 'pod', '-l', 'app=cart', '-n', 'shop', '--timeout=20s']);
    await ok(['rollout', 'restart', 'deployment/cart', '-n', 'shop']);
    const status = await ok(['rollout', 'status', 'deployment/cart', '-n', 'shop', '--timeout=30s']);
    const sets = await ok(['get', 'rs', '-n', 'shop', '-l', 'app=cart', '-o', 'jsonpath={range .items[*]}{.spec.replicas}{" "}{end}']);

    expect(waited.match(/condition met/g)).toHaveLength(4);
    expect(status).toContain('deployment "cart" successfully rolled out');
    // One ReplicaSet per template revision (env a, b, c, then the restart); only the newest has pods.
    expect(sets.trim().split(' ').map(Number).sort()).toEqual([0, 0, 0, 4]);
  });

  it('streams changes with get -w until the timeout', async () => {
    const watching = kubectl(['get', 'configmaps', '-n', 'shop', '-w', '--request-timeout=3s']);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await ok(['create', 'configmap', 'late', '-n', 'shop', '--from-literal=a=b']);

    const result = await watching;

    expect(result.stdout).toMatch(/^NAME\s+DATA\s+AGE$/m);
    expect(result.stdout).toMatch(/^settings\s+1\s+/m);
    expect(result.stdout).toMatch(/^late\s+1\s+/m);
  });

  it('serves custom resources once their CRD exists', async () => {
    await ok(['apply', '-f', '-'], CRD);

    const crds = await ok(['get', 'crd']);
    await ok(['apply', '-f', '-'], 'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: shop}\nspec: {mtls: {mode: STRICT}}\n');
    await ok(['apply', '-f', '-'], 'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: shop}\nspec: {mtls: {mode: PERMISSIVE}}\n');
    const byShortName = await ok(['get', 'pa', '-n', 'shop', '-o', 'jsonpath={.items[0].spec.mtls.mode}']);

    expect(crds).toMatch(/^peerauthentications\.security\.istio\.io\s+\d{4}-/m);
    expect(byShortName).toBe('PERMISSIVE');
  });

  it('deletes objects and their dependents', async () => {
    const deleted = await ok(['delete', 'deployment', 'web', '-n', 'shop']);

    const left = await kubectl(['get', 'rs,pods', '-n', 'shop', '-l', 'app=web']);

    expect(deleted).toBe('deployment.apps "web" deleted\n');
    expect(left.stderr).toBe('No resources found in shop namespace.\n');
  });

  it.each([
    [['get', 'pod', 'nope', '-n', 'shop'], 'Error from server (NotFound): pods "nope" not found'],
    [['create', 'namespace', 'Bad_Name'], 'The Namespace "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 label must consist of'],
    [['create', 'namespace', 'shop'], 'Error from server (AlreadyExists): namespaces "shop" already exists'],
    [['get', 'widgets'], `error: the server doesn't have a resource type "widgets"`],
  ])('fails like a real server: kubectl %j', async (args, message) => {
    const result = await kubectl(args);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(message);
  });

  it('deletes a manifest whose Namespace comes first: the namespace terminates, the rest is deleted, then it is gone', async () => {
    const app = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: app}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: app}\ndata: {a: b}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: app}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n    spec: {containers: [{name: api, image: nginx:1.27}]}\n';
    await ok(['apply', '-f', '-'], app);

    const deleted = await kubectl(['delete', '-f', '-'], app);
    const gone = await kubectl(['wait', '--for=delete', 'namespace/app', '--timeout=20s']);

    expect(deleted.stderr).toBe('');
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toBe('namespace "app" deleted\nconfigmap "settings" deleted\ndeployment.apps "api" deleted\n');
    expect(gone.code).toBe(0);
  });

  it('shows a meshless pod\'s log, names the containers when there are several, and refuses exec as a server that cannot reach a container does', async () => {
    await ok(['run', 'solo', '--image=nginx:1.27', '-n', 'shop']);
    await ok(['wait', '--for=condition=Ready', 'pod/solo', '-n', 'shop', '--timeout=20s']);
    await ok(['apply', '-f', '-'], 'apiVersion: v1\nkind: Pod\nmetadata: {name: duo, namespace: shop}\nspec: {containers: [{name: a, image: nginx:1.27}, {name: b, image: nginx:1.27}]}\n');

    const log = await ok(['logs', 'solo', '-n', 'shop']);
    const which = await kubectl(['logs', 'duo', '-n', 'shop']);
    const exec = await kubectl(['exec', 'solo', '-n', 'shop', '--', 'true']);

    expect(log).toMatch(/solo: started, serving/);
    expect(which.stderr).toMatch(/a container name must be specified for pod duo, choose one of: \[a b\]|Defaulted container "a"/);
    expect(exec.code).toBe(1);
    expect(exec.stderr).toMatch(/embedded cluster runs no containers|Upgrade request required/);
  });

  it('has the API server\'s own Service in default', async () => {
    expect(await ok(['get', 'service', 'kubernetes', '-n', 'default', '-o', 'jsonpath={.spec.clusterIP}:{.spec.ports[0].port}'])).toBe('10.96.0.1:443');
  });

  it('rejects unknown fields when kubectl asks for strict validation', async () => {
    const result = await kubectl(['apply', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: typo, namespace: shop}\ndatta: {a: b}\n');

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('strict decoding error: unknown field "datta"');
  });

});

const CRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: peerauthentications.security.istio.io}
spec:
  group: security.istio.io
  names: {kind: PeerAuthentication, listKind: PeerAuthenticationList, plural: peerauthentications, singular: peerauthentication, shortNames: [pa]}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`;
