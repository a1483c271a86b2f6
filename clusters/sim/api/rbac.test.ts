import { afterEach, describe, expect, it } from 'vitest';
import { kubectlAvailable, kubectlFor } from '../../../test/helpers/kubectl.js';
import { createKubeClient } from '../../kube/index.js';
import { startSimCluster, type SimCluster } from '../cluster.js';

// Service-account tokens and RBAC on the embedded cluster, through the real kubectl: a manifest's
// permissions are tested the way a real API server would hold a pod to them.
const hasKubectl = await kubectlAvailable();
const sims: SimCluster[] = [];
afterEach(async () => {
  for (const sim of sims.splice(0)) await sim.close();
});

const RBAC = `
apiVersion: v1
kind: Namespace
metadata: {name: ops}
---
apiVersion: v1
kind: Namespace
metadata: {name: web}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: reader, namespace: ops}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: namespace-reader}
rules:
  - {apiGroups: [""], resources: [namespaces], verbs: [get, list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: reader-namespaces}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: namespace-reader}
subjects: [{kind: ServiceAccount, name: reader, namespace: ops}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pods, namespace: web}
rules:
  - {apiGroups: [""], resources: [pods], verbs: [list]}
  - {apiGroups: [apps], resources: [deployments], verbs: [get], resourceNames: [api]}
  - {apiGroups: [apps], resources: [deployments/scale], verbs: [patch], resourceNames: [api]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader-pods, namespace: web}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pods}
subjects: [{kind: ServiceAccount, name: reader, namespace: ops}]
`;

describe.skipIf(!hasKubectl)('the embedded cluster: service-account tokens and RBAC', () => {
  it('kubectl create token mints a token that kubectl, client-node and the cluster hold to RBAC, word for word as a real server refuses', async () => {
    const sim = await startSimCluster({ tls: true });
    sims.push(sim);
    const kubectl = await kubectlFor(sim.kubeconfig);
    expect((await kubectl(['apply', '-f', '-'], RBAC)).code).toBe(0);

    const token = (await kubectl(['create', 'token', 'reader', '-n', 'ops', '--duration', '1h'])).stdout.trim();
    const as = (args: string[]) => kubectl([...args, '--token', token]);
    const namespaces = await as(['get', 'namespaces', '-o', 'name']);
    const pods = await as(['get', 'pods', '-n', 'web']);
    const otherPods = await as(['get', 'pods', '-n', 'ops']);
    const secrets = await as(['get', 'secrets', '-A']);
    const deleteNamespace = await as(['delete', 'namespace', 'web']);
    const viaClient = await createKubeClient(sim.kubeconfig.replace(/user: \{token: [^}]*\}/, `user: {token: ${token}}`)).list('v1', 'Pod', { namespace: 'ops' }).catch((e: Error) => e.message);
    const forged = await kubectl(['get', 'namespaces', '--token', `${token.slice(0, -4)}AAAA`]);

    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(namespaces.stdout).toContain('namespace/web');
    expect(pods.code).toBe(0);
    expect(otherPods.stderr.trim()).toBe('Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:ops:reader" cannot list resource "pods" in API group "" in the namespace "ops"');
    expect(secrets.stderr.trim()).toBe('Error from server (Forbidden): secrets is forbidden: User "system:serviceaccount:ops:reader" cannot list resource "secrets" in API group "" at the cluster scope');
    expect(deleteNamespace.stderr.trim()).toBe('Error from server (Forbidden): namespaces "web" is forbidden: User "system:serviceaccount:ops:reader" cannot delete resource "namespaces" in API group "" in the namespace "web"');
    expect(String(viaClient)).toContain('403');
    expect(forged.stderr).toContain('Unauthorized');
    expect(sim.auth.audit().filter((e) => !e.allowed).map((e) => `${e.verb} ${e.resource} ${e.namespace}`)).toEqual(['list pods ops', 'list secrets ', 'delete namespaces web', 'list pods ops']);
  });

  it('resourceNames and subresources are their own grants; a token dies with its ServiceAccount; the admin may impersonate', async () => {
    const sim = await startSimCluster({ tls: true });
    sims.push(sim);
    const kubectl = await kubectlFor(sim.kubeconfig);
    await kubectl(['apply', '-f', '-'], RBAC);
    await kubectl(['create', 'deployment', 'api', '-n', 'web', '--image=nginx']);
    await kubectl(['create', 'deployment', 'db', '-n', 'web', '--image=nginx']);
    const token = sim.auth.issueToken('ops', 'reader');

    const scaleApi = await kubectl(['scale', 'deployment/api', '-n', 'web', '--replicas=2', '--token', token]);
    const getDb = await kubectl(['get', 'deployment/db', '-n', 'web', '--token', token]);
    const patchApi = await kubectl(['patch', 'deployment/api', '-n', 'web', '-p', '{"spec":{"replicas":3}}', '--token', token]);
    const impersonating = await kubectl(['get', 'pods', '-n', 'ops', '--as', 'system:serviceaccount:ops:reader']);
    await kubectl(['delete', 'serviceaccount', 'reader', '-n', 'ops']);
    const afterDelete = await kubectl(['get', 'namespaces', '--token', token]);

    expect(scaleApi.code).toBe(0);
    expect(getDb.stderr).toContain('deployments.apps "db" is forbidden: User "system:serviceaccount:ops:reader" cannot get resource "deployments" in API group "apps" in the namespace "web"');
    expect(patchApi.stderr).toContain('cannot patch resource "deployments" in API group "apps" in the namespace "web"');
    expect(impersonating.stderr).toContain('User "system:serviceaccount:ops:reader" cannot list resource "pods"');
    expect(afterDelete.stderr).toContain('Unauthorized');
  });

  it('refuses a token request under ten minutes and for a ServiceAccount that does not exist', async () => {
    const sim = await startSimCluster({ tls: true });
    sims.push(sim);
    const kubectl = await kubectlFor(sim.kubeconfig);
    await kubectl(['apply', '-f', '-'], RBAC);

    const short = await kubectl(['create', 'token', 'reader', '-n', 'ops', '--duration', '5m']);
    const missing = await kubectl(['create', 'token', 'nobody', '-n', 'ops']);

    expect(short.stderr).toContain('may not specify a duration less than 10 minutes');
    expect(missing.stderr).toContain('serviceaccounts "nobody" not found');
  });
});
