import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createKubeClient } from '../kube/index.js';
import { startSimCluster } from '../sim/index.js';
import { useExistingCluster } from './provider.js';

// meshdrill in a pod (a CronJob): `--context in-cluster` reads the service account Kubernetes
// mounts, as client-go's InClusterConfig does, and hands kubectl a kubeconfig that names the token
// file rather than copying the token.
const run = promisify(execFile);

/** A mounted service account for the tests that never reach a server. */
async function serviceAccount(namespace = 'ops'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'meshdrill-sa-'));
  // As the kubelet writes it: no trailing newline.
  await writeFile(join(dir, 'token'), 'sa-token-0123456789abcdef');
  await writeFile(join(dir, 'namespace'), namespace);
  await writeFile(join(dir, 'ca.crt'), '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
  return dir;
}

describe('--context in-cluster', () => {
  it('reaches the API server the pod runs beside over TLS, as its service account held to RBAC, with client-node and with kubectl, and copies no token', async () => {
    const sim = await startSimCluster({ tls: true });
    try {
      const admin = createKubeClient(sim.kubeconfig);
      await admin.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ops' } });
      await admin.apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'meshdrill', namespace: 'ops' } });
      await admin.apply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'namespaces-reader' }, rules: [{ apiGroups: [''], resources: ['namespaces'], verbs: ['list'] }] } as never);
      await admin.apply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'meshdrill-namespaces' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'namespaces-reader' }, subjects: [{ kind: 'ServiceAccount', name: 'meshdrill', namespace: 'ops' }] } as never);
      // As the kubelet mounts it: the token TokenRequest issued (no trailing newline), the cluster CA, the namespace.
      const token = sim.auth.issueToken('ops', 'meshdrill');
      const dir = await mkdtemp(join(tmpdir(), 'meshdrill-sa-'));
      await writeFile(join(dir, 'token'), token);
      await writeFile(join(dir, 'namespace'), 'ops');
      await writeFile(join(dir, 'ca.crt'), sim.caPem!);
      const port = new URL(sim.url).port;
      const cluster = await useExistingCluster({ context: 'in-cluster', allowChaos: false, env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port }, serviceAccountDir: dir });

      const namespaces = (await createKubeClient(cluster.kubeconfig).list('v1', 'Namespace')).map((n) => n.metadata.name);
      const viaKubectl = (await run('kubectl', ['--kubeconfig', cluster.kubeconfigPath, 'get', 'namespaces', '-o', 'name'])).stdout;
      const pods = await run('kubectl', ['--kubeconfig', cluster.kubeconfigPath, 'get', 'pods', '-A']).catch((e: { stderr: string }) => e.stderr);

      expect(namespaces).toContain('kube-system');
      expect(viaKubectl).toContain('namespace/kube-system');
      expect(String(pods)).toContain('User "system:serviceaccount:ops:meshdrill" cannot list resource "pods"');
      expect(await readFile(cluster.kubeconfigPath, 'utf8')).not.toContain(token);
      expect(cluster.kubeconfig).not.toContain(token);
      expect(cluster.secrets).toEqual([token]);
      expect(cluster.kubeconfig).toContain('namespace: ops');
      expect(sim.auth.audit().map((e) => `${e.user} ${e.verb} ${e.resource} ${e.allowed}`)).toContain('system:serviceaccount:ops:meshdrill list namespaces true');
    } finally {
      await sim.close();
    }
  });

  it('speaks https to the service address with the mounted CA, brackets IPv6, and says when it is not in a pod', async () => {
    const dir = await serviceAccount();
    const v4 = await useExistingCluster({ context: 'in-cluster', allowChaos: false, env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, serviceAccountDir: dir });
    const v6 = await useExistingCluster({ context: 'in-cluster', allowChaos: false, env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, serviceAccountDir: dir });
    const outside = await useExistingCluster({ context: 'in-cluster', allowChaos: false, env: {}, serviceAccountDir: dir }).catch((e: Error) => e.message);
    const noToken = await useExistingCluster({ context: 'in-cluster', allowChaos: false, env: { KUBERNETES_SERVICE_HOST: '10.96.0.1' }, serviceAccountDir: join(dir, 'nowhere') }).catch((e: Error) => e.message);

    expect(v4.kubeconfig).toContain('server: https://10.96.0.1:443');
    expect(v4.kubeconfig).toContain(`certificate-authority: ${join(dir, 'ca.crt')}`);
    expect(v6.kubeconfig).toContain('server: https://[fd00::1]:443');
    expect(outside).toBe('--context in-cluster: not in a pod (KUBERNETES_SERVICE_HOST is not set); outside a cluster, name a kubeconfig context');
    expect(noToken).toMatch(/no service-account token at .*nowhere\/token/);
    expect(v4.chaosAllowed).toBe(false);
  });
});
