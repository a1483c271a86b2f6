import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { installMeshOnCluster, createRootCa, verifySignedBy } from '../meshes/index.js';
import { fakeTools } from '../test/helpers/fake-tools.js';
import { exec, createKubeClient, startSimCluster, provisionKindClusters, type SimCluster, type KindOptions } from '../clusters/index.js';
import { provisionKindFleet } from './fleet.js';

const sims: SimCluster[] = [];
afterEach(async () => {
  for (const s of sims.splice(0)) await s.close();
});
const quiet = { info: () => undefined, warn: () => undefined };

describe('several kind clusters for a multicluster game day', () => {
  it('gives each its own pod and service ranges, and takes the fleet down when one cannot be made', async () => {
    const tools = await fakeTools({
      kind: {
        version: { stdout: 'kind v0.30.0 go1.24.6 linux/amd64\n' },
        'get clusters': { stdout: 'No kind clusters found.\n' },
        'create cluster': [{ writeFileAfterFlag: { flag: '--kubeconfig', content: 'apiVersion: v1\nkind: Config\n' } }, { writeFileAfterFlag: { flag: '--kubeconfig', content: 'apiVersion: v1\nkind: Config\n' } }, { writeFileAfterFlag: { flag: '--kubeconfig', content: 'apiVersion: v1\nkind: Config\n' } }, { code: 1, stderr: 'ERROR: failed to create cluster: node(s) already exist for a cluster with the name\n' }],
        'export logs': {},
        'delete cluster': {},
      },
    });
    const runDir = await mkdtemp(join(tmpdir(), 'meshdrill-fleet-'));
    const base: KindOptions = { runDir, leaseDir: join(runDir, 'leases'), runId: 'fleet', workers: 1, keep: false, reuse: false, fingerprint: 'f', logger: quiet, attempts: 1, run: (args, o) => exec('kind', args, { ...o, env: { ...process.env, PATH: tools.path } }) };

    const two = await provisionKindClusters(2, base);
    const subnets = await Promise.all([1, 2].map(async (i) => (parse(await readFile(join(runDir, `cluster-${i}`, 'kind-config.yaml'), 'utf8')) as { networking: Record<string, string> }).networking));
    const failed = await provisionKindClusters(2, { ...base, runId: 'fleet2' }).catch((e: unknown) => e);

    expect(two.map((c) => c.name)).toEqual(['meshdrill-fleet-c1', 'meshdrill-fleet-c2']);
    expect(subnets).toEqual([{ disableDefaultCNI: false, podSubnet: '10.10.0.0/16', serviceSubnet: '10.255.10.0/24' }, { disableDefaultCNI: false, podSubnet: '10.20.0.0/16', serviceSubnet: '10.255.20.0/24' }]);
    expect((failed as Error).message).toMatch(/^kind create cluster meshdrill-fleet2-c2 failed 1 time; last: ERROR: failed to create cluster: node\(s\) already exist/);
    expect((await tools.calls('kind')).filter((c) => c[0] === 'delete').map((c) => c[3])).toEqual(['meshdrill-fleet2-c2', 'meshdrill-fleet2-c1']);
  });

  it('installs Istio on each with one shared root and a per-cluster intermediate, as multicluster trust needs', async () => {
    const tools = await fakeTools({ helm: { 'version --short': { stdout: 'v3.16.2\n' }, 'repo add': {}, 'upgrade --install': { stdout: 'STATUS: deployed\n' } } });
    const root = await createRootCa({ commonName: 'Root CA', lifetimeMs: 365 * 86_400_000 });
    const certs: Array<Record<string, string>> = [];
    for (const name of ['east', 'west']) {
      const sim = await startSimCluster({ time: 'virtual' });
      sims.push(sim);
      const kube = createKubeClient(sim.kubeconfig);
      await installMeshOnCluster({ mesh: 'istio', mode: 'sidecar', version: '1.27.1', kube, kubeconfigPath: '/k', workDir: await mkdtemp(join(tmpdir(), 'mc-')), logger: quiet, sharedRoot: { root, cluster: name }, run: (b, a, o) => exec(b, a, { ...(o ?? {}), env: { ...process.env, PATH: tools.path } }) });
      const data = (await kube.get('v1', 'Secret', 'istio-system', 'cacerts'))!['data'] as Record<string, string>;
      certs.push(Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])));
    }

    expect(certs[0]!['root-cert.pem']).toBe(root.rootPem);
    expect(certs[1]!['root-cert.pem']).toBe(root.rootPem);
    expect(certs[0]!['ca-cert.pem']).not.toBe(certs[1]!['ca-cert.pem']);
    expect(await verifySignedBy(certs[0]!['ca-cert.pem']!, root)).toBe(true);
    expect(await verifySignedBy(certs[1]!['ca-cert.pem']!, root)).toBe(true);
    // Multi-primary: one mesh, each istiod named after its cluster.
    const istiod = (await tools.calls('helm')).filter((c) => c.includes('istiod')).map((c) => c.filter((a) => a.startsWith('global.meshID') || a.startsWith('global.multiCluster') || a.startsWith('global.network')));
    expect(istiod).toEqual([
      ['global.meshID=meshdrill', 'global.multiCluster.clusterName=east', 'global.network=network-1'],
      ['global.meshID=meshdrill', 'global.multiCluster.clusterName=west', 'global.network=network-1'],
    ]);
  });

  it('makes a fleet: clusters, Istio on each under one root, routes between their ranges, and a remote secret in every istiod for every other cluster', async () => {
    const sims2: SimCluster[] = [];
    for (let i = 0; i < 2; i++) sims2.push(await startSimCluster({ time: 'virtual', nodes: 2 }));
    sims.push(...sims2);
    // What `kind get kubeconfig --internal` prints: the control-plane container by name.
    const internal = (name: string) => `apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority-data: Q0E=\n    server: https://${name}-control-plane:6443\n  name: kind-${name}\ncontexts:\n- context: {cluster: kind-${name}, user: kind-${name}}\n  name: kind-${name}\ncurrent-context: kind-${name}\nusers:\n- name: kind-${name}\n  user: {client-certificate-data: Q0VSVA==, client-key-data: S0VZ}\n`;
    const tools = await fakeTools({
      kind: {
        version: { stdout: 'kind v0.30.0 go1.24.6 linux/amd64\n' },
        'get clusters': { stdout: 'No kind clusters found.\n' },
        'create cluster': sims2.map((s) => ({ writeFileAfterFlag: { flag: '--kubeconfig', content: s.kubeconfig } })),
        'get kubeconfig': [{ stdout: internal('meshdrill-mesh-c1') }, { stdout: internal('meshdrill-mesh-c2') }],
        'export logs': {},
        'delete cluster': {},
      },
      docker: { exec: {} },
      helm: { 'version --short': { stdout: 'v3.16.2\n' }, 'repo add': {}, 'upgrade --install': { stdout: 'STATUS: deployed\n' } },
    });
    const run = (binary: string, args: string[], o?: { input?: string; timeoutMs?: number }) => exec(binary, args, { ...(o ?? {}), env: { ...process.env, PATH: tools.path } });
    const runDir = await mkdtemp(join(tmpdir(), 'meshdrill-fleet-'));

    const fleet = await provisionKindFleet(2, { kind: { runDir, leaseDir: join(runDir, 'leases'), runId: 'mesh', workers: 1, keep: false, reuse: false, fingerprint: 'f', logger: quiet, run: (args, o) => run('kind', args, o) }, mesh: { version: '1.27.1', mode: 'sidecar' }, logger: quiet, installRun: run, run });
    const [c1, c2] = fleet.clusters;
    const nodes = (await c1!.kube.list('v1', 'Node')).map((n) => n.metadata.name);
    const secret = await c1!.kube.get('v1', 'Secret', 'istio-system', 'istio-remote-secret-meshdrill-mesh-c2');
    const roots = await Promise.all(fleet.clusters.map(async (c) => Buffer.from(((await c.kube.get('v1', 'Secret', 'istio-system', 'cacerts'))!['data'] as Record<string, string>)['root-cert.pem']!, 'base64').toString('utf8')));
    await fleet.close();

    expect(fleet.clusters.map((c) => `${c.name} ${c.serviceSubnet}`)).toEqual(['meshdrill-mesh-c1 10.255.10.0/24', 'meshdrill-mesh-c2 10.255.20.0/24']);
    expect(roots[0]).toBe(roots[1]);
    // Every node of one cluster reaches every node's pod range of the other, and its service range via the control plane.
    const routes = (await tools.calls('docker')).map((c) => c.join(' '));
    expect(routes).toHaveLength(2 * nodes.length * (nodes.length + 1));
    expect(routes).toContain(`exec ${nodes[0]} ip route replace 10.255.20.0/24 via 172.18.0.2`);
    expect(routes).toContain(`exec ${nodes[1]} ip route replace 10.244.1.0/24 via 172.18.0.3`);
    expect(secret?.metadata).toMatchObject({ labels: { 'istio/multiCluster': 'true' }, annotations: { 'networking.istio.io/cluster': 'meshdrill-mesh-c2' } });
    expect(Buffer.from(((secret!['data'] as Record<string, string>)['meshdrill-mesh-c2'])!, 'base64').toString('utf8')).toContain('server: https://172.18.0.2:6443');
    expect(await c2!.kube.get('v1', 'Secret', 'istio-system', 'istio-remote-secret-meshdrill-mesh-c1')).toBeDefined();
    expect((await tools.calls('kind')).filter((c) => c[0] === 'delete').map((c) => c[3])).toEqual(['meshdrill-mesh-c2', 'meshdrill-mesh-c1']);
  });
});
