import { cp, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, captureIO } from '../test/helpers/cli.js';
import { createKubeClient, startSimCluster, attachMeshTwin, useExistingCluster, exec, type SimCluster } from '../clusters/index.js';
import { meshAdapter } from '../meshes/index.js';
import { existingCluster } from './index.js';
import { fakeTools } from '../test/helpers/fake-tools.js';

const SHOP = join(import.meta.dirname, '..', 'examples', 'shop');
const clusters: SimCluster[] = [];
afterEach(async () => {
  for (const c of clusters.splice(0)) await c.close();
});

/** A user's kubeconfig with two contexts: "staging" (our cluster) and the current one, "prod". */
async function userKubeconfig(sim: SimCluster): Promise<string> {
  const base = parse(sim.kubeconfig) as { clusters: Array<{ name: string; cluster: unknown }>; users: Array<{ name: string; user: unknown }> };
  const dir = await mkdtemp(join(tmpdir(), 'meshdrill-kubeconfig-'));
  const path = join(dir, 'config');
  await writeFile(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'prod',
      clusters: [{ name: 'staging', cluster: base.clusters[0]!.cluster }, { name: 'prod', cluster: { server: 'https://prod.invalid' } }],
      users: [{ name: 'staging', user: base.users[0]!.user }, { name: 'prod', user: { token: 'prod-token' } }],
      contexts: [{ name: 'staging', context: { cluster: 'staging', user: 'staging' } }, { name: 'prod', context: { cluster: 'prod', user: 'prod' } }],
    }),
  );
  return path;
}

/** Someone's staging cluster: the embedded cluster in real time with Istio installed, a user kubeconfig naming it "staging", and a copy of the example repo. */
async function stagingCluster(): Promise<{ kube: ReturnType<typeof createKubeClient>; path: string; dir: string }> {
  const sim = await startSimCluster({ time: 'real', podStartDelayMs: 10 });
  clusters.push(sim);
  attachMeshTwin(sim);
  const kube = createKubeClient(sim.kubeconfig);
  for (const object of await meshAdapter('istio').installManifests()) await kube.apply(object);
  const path = await userKubeconfig(sim);
  const dir = await mkdtemp(join(tmpdir(), 'meshdrill-staging-'));
  await cp(SHOP, dir, { recursive: true });
  return { kube, path, dir };
}

describe('existing clusters through a named context', () => {
  it('keeps only that context, in memory: never the current one, never a copy on disk', async () => {
    const sim = await startSimCluster({ time: 'virtual' });
    clusters.push(sim);
    const path = await userKubeconfig(sim);
    const before = await readFile(path, 'utf8');

    const cluster = await useExistingCluster({ path, context: 'staging', allowChaos: false, env: {} });
    const missing = await useExistingCluster({ path, context: 'stagin', allowChaos: false, env: {} }).catch((e: unknown) => e);

    const isolated = parse(cluster.kubeconfig) as { 'current-context': string; contexts: unknown[] };
    expect(isolated['current-context']).toBe('staging');
    expect(isolated.contexts).toHaveLength(1);
    expect(cluster.kubeconfig).not.toContain('prod-token');
    expect(cluster.chaosAllowed).toBe(false);
    expect(await readFile(path, 'utf8')).toBe(before);
    expect(cluster.kubeconfigPath).toBe(path);
    expect((missing as Error).message).toBe(`kubeconfig ${path} has no context "stagin" (contexts: staging, prod)`);
    expect((await createKubeClient(cluster.kubeconfig).list('v1', 'Namespace')).map((n) => n.metadata.name)).toContain('kube-system');
  });

  it('refuses faults on a context nobody allow-listed, before touching anything; runs them with --yes-really', async () => {
    const { kube, path, dir } = await stagingCluster();
    await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'frontend' } });
    await writeFile(join(dir, 'gameday.yaml'), JSON.stringify({ apiVersion: 'meshdrill.dev/v1alpha1', kind: 'GameDay', metadata: { name: 'staging' }, spec: { plan: 'shop-migration', steps: [{ provision: {} }, { install: {} }, { fault: { type: 'control-plane-partition', namespaces: ['frontend'], duration: '1s' } }] } }));
    const namespacesBefore = (await kube.list('networking.k8s.io/v1', 'NetworkPolicy')).length;

    const refused = captureIO(dir);
    const refusedCode = await runCli(['gameday', 'run', '.', '--kubeconfig', path, '--context', 'staging', '--out', 'out1'], refused);
    const allowed = captureIO(dir);
    const allowedCode = await runCli(['gameday', 'run', '.', '--kubeconfig', path, '--context', 'staging', '--yes-really', 'staging', '--out', 'out2', '-o', 'json'], allowed);

    expect(refusedCode).toBe(2);
    expect(refused.err.join('')).toBe('meshdrill: context "staging" is not allow-listed for chaos: set allowChaos: true in its Cluster document, or pass --yes-really staging\n');
    const record = JSON.parse(allowed.out.join('')) as { cluster: { provider: string }; faults: Array<{ leftovers: string[]; revertedAt?: string }>; steps: Array<{ detail: string }> };
    expect(record.cluster.provider).toBe('kubeconfig (staging)');
    expect(record.steps[1]!.detail).toMatch(/^istio found: \d+ ready control-plane pods$/);
    expect(record.faults[0]).toMatchObject({ leftovers: [] });
    expect((await kube.list('networking.k8s.io/v1', 'NetworkPolicy')).length).toBe(namespacesBefore);
    expect(allowedCode).toBe(0);
    // Refused or not, no run copies the kubeconfig (and its token) into its folder.
    expect(await readdir(join(dir, 'out2'))).not.toContain('kubeconfig');
    expect(await readdir(join(dir, 'out1')).catch(() => [])).not.toContain('kubeconfig');
  });

  it('with --traffic drives the entrypoints with k6 in the cluster for the run, and takes it away after', async () => {
    const { kube, path, dir } = await stagingCluster();
    await writeFile(join(dir, 'gameday.yaml'), JSON.stringify({ apiVersion: 'meshdrill.dev/v1alpha1', kind: 'GameDay', metadata: { name: 'staging' }, spec: { plan: 'shop-migration', steps: [{ provision: {} }, { install: {} }, { deploy: {} }] } }));
    const io = captureIO(dir);

    const code = await runCli(['gameday', 'run', '.', '--kubeconfig', path, '--context', 'staging', '--traffic', '--out', 'out'], io);

    expect(code).toBe(0);
    expect(io.err.join('')).toContain('traffic: k6 in meshdrill-load at 400 rps into ingress/gateway, 20 rps into legacy/batch, 5 rps into legacy/reporting\n');
    expect(await kube.get('batch/v1', 'Job', 'meshdrill-load', 'meshdrill-load-traffic')).toBeUndefined();
    expect(await kube.get('v1', 'Namespace', undefined, 'meshdrill-load')).toBeUndefined();
  });

  it('dumps proxy configuration the way each mesh offers it, through the isolated kubeconfig', async () => {
    const tools = await fakeTools({ kubectl: { exec: { stdout: '{"configs":[{"@type":"type.googleapis.com/envoy.admin.v3.BootstrapConfigDump"}]}\n' } }, linkerd: { 'diagnostics proxy-metrics': { stdout: '# HELP inbound_http_authz_allow_total\n' } } });
    const kubeconfig = stringify({ apiVersion: 'v1', kind: 'Config', 'current-context': 'staging', clusters: [{ name: 's', cluster: { server: 'https://127.0.0.1:1' } }], users: [{ name: 'u', user: {} }], contexts: [{ name: 'staging', context: { cluster: 's', user: 'u' } }] });
    const handle = existingCluster({ kubeconfig, context: 'staging', kubeconfigPath: '/run/kubeconfig', run: (binary, args) => exec(binary, args, { env: { PATH: tools.path } }) });

    const envoy = await handle.proxyDump!('istio', 'payments', 'api-7d9c');
    const linkerd = await handle.proxyDump!('linkerd', 'payments', 'api-7d9c');

    expect(envoy).toContain('BootstrapConfigDump');
    expect(linkerd).toContain('inbound_http_authz_allow_total');
    expect(await tools.calls('kubectl')).toEqual([['exec', '--context', 'staging', '-n', 'payments', 'api-7d9c', '-c', 'istio-proxy', '--', 'pilot-agent', 'request', 'GET', 'config_dump']]);
    expect(await tools.calls('linkerd')).toEqual([['diagnostics', 'proxy-metrics', '--context', 'staging', '-n', 'payments', 'po/api-7d9c']]);
  });
});
