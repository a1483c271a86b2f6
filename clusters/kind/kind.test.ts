import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Ajv } from 'ajv';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCli, captureIO } from '../../test/helpers/cli.js';
import { fakeTools, type FakeResponse } from '../../test/helpers/fake-tools.js';
import { exec } from '../exec.js';
import { kindConfig, nodeImage } from './config.js';
import { holdLease, readLease } from './leases.js';
import { collectKindClusters, parseKindVersion, provisionKind, type KindOptions } from './provider.js';

// What kind v0.30.0 prints (kind's quick-start docs; `kind version`, `kind create cluster`).
const VERSION: FakeResponse = { stdout: 'kind v0.30.0 go1.24.6 linux/amd64\n' };
const KUBECONFIG = 'apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://127.0.0.1:40123\n  name: kind-meshdrill-run-1\ncontexts:\n- context:\n    cluster: kind-meshdrill-run-1\n    user: kind-meshdrill-run-1\n  name: kind-meshdrill-run-1\ncurrent-context: kind-meshdrill-run-1\nusers:\n- name: kind-meshdrill-run-1\n  user: {}\n';
const CREATED: FakeResponse = {
  stderr: 'Creating cluster "meshdrill-run-1" ...\n ✓ Ensuring node image (kindest/node:v1.34.0) 🖼\n ✓ Preparing nodes 📦 📦 📦  \n ✓ Writing configuration 📜\n ✓ Starting control-plane 🕹️\n ✓ Installing CNI 🔌\n ✓ Installing StorageClass 💾\n ✓ Joining worker nodes 🚜\nSet kubectl context to "kind-meshdrill-run-1"\n',
  writeFileAfterFlag: { flag: '--kubeconfig', content: KUBECONFIG },
};
const NO_DOCKER: FakeResponse = { code: 1, stderr: 'ERROR: failed to create cluster: failed to ensure docker network: command "docker network ls --filter=name=^kind$ --format={{.Name}}" failed with error: exit status 1\n' };
const quiet = { info: () => undefined, warn: () => undefined };

async function setup(responses: Record<string, FakeResponse | FakeResponse[]>, options: Partial<KindOptions> = {}) {
  const tools = await fakeTools({ kind: { version: VERSION, 'get clusters': { stdout: 'No kind clusters found.\n' }, 'export logs': { stdout: '' }, 'delete cluster': { stderr: 'Deleting cluster "meshdrill-run-1" ...\n' }, ...responses } });
  const runDir = await mkdtemp(join(tmpdir(), 'meshdrill-kind-run-'));
  const run: KindOptions['run'] = (args, o) => exec('kind', args, { ...o, env: { ...process.env, PATH: tools.path } });
  const base: KindOptions = { runDir, leaseDir: join(runDir, 'leases'), runId: 'run-1', workers: 2, keep: false, reuse: false, fingerprint: 'cluster+mesh', logger: quiet, run, ...options };
  return { tools, runDir, base };
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('kind provider (fake kind on PATH)', () => {
  it('creates the cluster from its own config into an isolated kubeconfig, and exports logs before deleting it', async () => {
    const { tools, runDir, base } = await setup({ 'create cluster': CREATED });

    const cluster = await provisionKind(base);
    await cluster.close();

    expect(cluster.name).toBe('meshdrill-run-1');
    expect(cluster.kubeconfig).toBe(KUBECONFIG);
    expect(await tools.calls('kind')).toEqual([
      ['version'],
      ['get', 'clusters'],
      ['create', 'cluster', '--name', 'meshdrill-run-1', '--config', join(runDir, 'kind-config.yaml'), '--kubeconfig', join(runDir, 'kubeconfig'), '--wait', '180s'],
      ['export', 'logs', join(runDir, 'kind-logs'), '--name', 'meshdrill-run-1'],
      ['delete', 'cluster', '--name', 'meshdrill-run-1', '--kubeconfig', join(runDir, 'kubeconfig')],
    ]);
    const config = parse(await readFile(join(runDir, 'kind-config.yaml'), 'utf8')) as { nodes: Array<{ role: string; image: string }> };
    expect(config.nodes.map((n) => `${n.role} ${n.image}`)).toEqual(['control-plane', 'worker', 'worker'].map((role) => `${role} kindest/node:v1.34.0@sha256:7416a61b42b1662ca6ca89f02028ac133a309a2a30ba309614e8ec94d976dc5a`));
  });

  it('retries a failed create after removing the half-made cluster, and says why it gave up', async () => {
    const { tools, base } = await setup({ 'create cluster': [NO_DOCKER, NO_DOCKER, NO_DOCKER] });

    const error = await provisionKind(base).catch((e: unknown) => e);

    expect((error as Error).message).toBe('kind create cluster meshdrill-run-1 failed 3 times; last: ERROR: failed to create cluster: failed to ensure docker network: command "docker network ls --filter=name=^kind$ --format={{.Name}}" failed with error: exit status 1');
    expect((await tools.calls('kind')).map((c) => c.slice(0, 2).join(' '))).toEqual(['version', 'get clusters', 'create cluster', 'export logs', 'delete cluster', 'create cluster', 'export logs', 'delete cluster', 'create cluster', 'export logs', 'delete cluster']);
  });

  it('passes on the second attempt when the first create fails', async () => {
    const { base } = await setup({ 'create cluster': [NO_DOCKER, CREATED] });

    const cluster = await provisionKind(base);

    expect(cluster.kubeconfig).toBe(KUBECONFIG);
  });

  it('refuses kind older than v0.24 (no NetworkPolicy in kindnet) and a missing kind with how to get it', async () => {
    const { base } = await setup({ version: { stdout: 'kind v0.23.0 go1.22.2 linux/amd64\n' } });

    const old = await provisionKind(base).catch((e: unknown) => e);
    const missing = await provisionKind({ ...base, run: (args) => exec('kind', args, { env: { PATH: '/nonexistent' } }) }).catch((e: unknown) => e);

    expect((old as Error).message).toMatch(/^kind v0\.23\.0 is too old: meshdrill needs ≥ v0\.24\.0, where kindnet began enforcing NetworkPolicy/);
    expect((missing as Error).message).toMatch(/^kind is not installed \(not on PATH\); install kind ≥ v0\.24/);
  });

  it('with --reuse, uses the cluster named by the config hash and keeps it afterwards', async () => {
    // sha256("x") starts 2d711642b7: the same cluster and mesh config, the same cluster.
    const { tools, base } = await setup({ 'get clusters': { stdout: 'meshdrill-2d711642b7\nother\n' }, 'get kubeconfig': { stdout: KUBECONFIG } }, { reuse: true, fingerprint: 'x' });

    const cluster = await provisionKind(base);
    await cluster.close();

    expect(cluster.name).toBe('meshdrill-2d711642b7');
    expect((await tools.calls('kind')).map((c) => c.slice(0, 2).join(' '))).toEqual(['version', 'get clusters', 'get kubeconfig', 'export logs']);
  });

  it('loads local images into the nodes, and removes the cluster when an image is not there to load', async () => {
    const missing: FakeResponse = { code: 1, stderr: 'ERROR: image: "shop/fake-service:dev" not present locally\n' };
    const { tools, base } = await setup({ 'create cluster': CREATED, 'load docker-image': [{ stderr: 'Image: "shop/api:dev" with ID "sha256:1b2c" not yet present on node "meshdrill-run-1-control-plane", loading...\n' }, missing] });

    const made = provisionKind({ ...base, images: ['shop/api:dev', 'shop/fake-service:dev'] });

    await expect(made).rejects.toThrow('kind load docker-image shop/fake-service:dev failed: ERROR: image: "shop/fake-service:dev" not present locally — build or pull it first (docker pull shop/fake-service:dev)');
    expect((await tools.calls('kind')).map((c) => c.slice(0, 3).join(' '))).toEqual(['version', 'get clusters', 'create cluster --name', 'load docker-image shop/api:dev', 'load docker-image shop/fake-service:dev', 'export logs ' + join(base.runDir, 'kind-logs'), 'delete cluster --name']);
    expect(await readLease(base.leaseDir!, 'meshdrill-run-1')).toBeUndefined();
  });

  it('clusters gc deletes the clusters whose run has ended, and leaves those a live run holds', async () => {
    const { tools, base } = await setup({ 'get clusters': { stdout: 'meshdrill-killed-run\nmeshdrill-live-run\nmeshdrill-kept\nmeshdrill-no-lease\nmeshdrill-spared\nteam-dev\n' } });
    const leaseDir = base.leaseDir!;
    // A live run: a real process holds its cluster. A killed run: its process has exited.
    const live = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const killed = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await new Promise((resolve) => killed.once('exit', resolve));
    try {
      await holdLease(leaseDir, { cluster: 'meshdrill-live-run', runId: 'live', pid: live.pid! });
      await holdLease(leaseDir, { cluster: 'meshdrill-killed-run', runId: 'killed', pid: killed.pid! });
      await holdLease(leaseDir, { cluster: 'meshdrill-kept', runId: 'kept', pid: null });

      const dry = await collectKindClusters({ except: new Set(['meshdrill-spared']), dryRun: true, run: base.run!, leaseDir, logger: quiet });
      const result = await collectKindClusters({ except: new Set(['meshdrill-spared']), dryRun: false, run: base.run!, leaseDir, logger: quiet });

      expect(dry).toEqual(result);
      expect(result).toEqual({ deleted: ['meshdrill-killed-run', 'meshdrill-kept', 'meshdrill-no-lease'], inUse: ['meshdrill-live-run'] });
      expect((await tools.calls('kind')).filter((c) => c[0] === 'delete').map((c) => c[3])).toEqual(['meshdrill-killed-run', 'meshdrill-kept', 'meshdrill-no-lease']);
      expect(await readLease(leaseDir, 'meshdrill-killed-run')).toBeUndefined();
      expect(await readLease(leaseDir, 'meshdrill-live-run')).toMatchObject({ runId: 'live', pid: live.pid });
    } finally {
      live.kill();
    }
  });

  it('clusters list says which run holds each cluster, and whether it is still alive', async () => {
    const { tools, base } = await setup({ 'get clusters': { stdout: 'meshdrill-live-run\nmeshdrill-kept\nmeshdrill-no-lease\nteam-dev\n' } });
    const state = await mkdtemp(join(tmpdir(), 'meshdrill-state-'));
    const leaseDir = join(state, 'meshdrill', 'kind');
    await holdLease(leaseDir, { cluster: 'meshdrill-live-run', runId: 'live', pid: process.pid });
    await holdLease(leaseDir, { cluster: 'meshdrill-kept', runId: 'kept', pid: null });
    vi.stubEnv('PATH', tools.path);
    const io = { ...captureIO(base.runDir), env: { ...process.env, XDG_STATE_HOME: state } };

    const code = await runCli(['clusters', 'list'], io);

    expect(code).toBe(0);
    expect(io.out.join('')).toBe(`meshdrill-live-run  in use by run live (pid ${process.pid} on ${hostname()})\nmeshdrill-kept  run kept has ended (kept); gc deletes it\nmeshdrill-no-lease  no lease; gc deletes it\n`);
  });

  it('leases the cluster while the run lives, releases it when deleted, keeps it without a process when kept, and will not reuse a cluster a live run holds', async () => {
    const { base } = await setup({ 'create cluster': CREATED });
    const leaseDir = base.leaseDir!;

    const cluster = await provisionKind(base);
    const during = await readLease(leaseDir, cluster.name);
    await cluster.close();
    const afterDelete = await readLease(leaseDir, cluster.name);
    const kept = await provisionKind({ ...base, keep: true });
    await kept.close();
    const afterKeep = await readLease(leaseDir, kept.name);
    await holdLease(leaseDir, { cluster: 'meshdrill-389b68758d', runId: 'other-run' }); // the --reuse name of this cluster and mesh config
    const busy = provisionKind({ ...base, reuse: true });

    expect(during).toMatchObject({ cluster: 'meshdrill-run-1', runId: 'run-1', pid: process.pid });
    expect(afterDelete).toBeUndefined();
    expect(afterKeep).toMatchObject({ runId: 'run-1', pid: null });
    await expect(busy).rejects.toThrow(/^kind cluster meshdrill-389b68758d is in use by run other-run \(pid \d+ on .+\); wait for it to end, or run without --reuse$/);
  });
});

describe('kind config', () => {
  it('validates against kind\'s v1alpha4 Cluster schema (transcribed from its Go types), which refuses what kind refuses', async () => {
    const schema = JSON.parse(await readFile(join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'kind', 'cluster-v1alpha4.schema.json'), 'utf8')) as object;
    const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
    const configs = [
      kindConfig({ name: 'a', workers: 2 }),
      kindConfig({ name: 'b', workers: 1, kubernetesVersion: '1.36', podSubnet: '10.20.0.0/16', serviceSubnet: '10.255.20.0/24', portMappings: [{ containerPort: 30080, hostPort: 8080 }, { containerPort: 30443, hostPort: 8443, protocol: 'TCP' }] }),
    ];

    for (const config of configs) expect(validate(config), JSON.stringify(validate.errors)).toBe(true);
    expect((configs[1]!['nodes'] as Array<Record<string, unknown>>)[0]!['extraPortMappings']).toEqual([{ containerPort: 30080, hostPort: 8080, listenAddress: '127.0.0.1' }, { containerPort: 30443, hostPort: 8443, protocol: 'TCP', listenAddress: '127.0.0.1' }]);
    expect(validate({ ...configs[0], nodes: [{ role: 'control-plane', extraPortMapings: [] }] })).toBe(false);
  });

  it('pins node images by digest per Kubernetes version and refuses unknown ones', () => {
    expect(nodeImage('1.33')).toBe('kindest/node:v1.33.1@sha256:050072256b9a903bd914c0b2866828150cb229cea0efe5892e2b644d5dd3b34f');
    expect(nodeImage('1.36.1')).toBe('kindest/node:v1.36.1@sha256:3489c7674813ba5d8b1a9977baea8a6e553784dab7b84759d1014dbd78f7ebd5');
    // A patch release meshdrill has no digest for is used by tag, as given.
    expect(nodeImage('v1.32.5')).toBe('kindest/node:v1.32.5');
    expect(() => nodeImage('1.20')).toThrow('kubernetesVersion "1.20": no kind node image known for it; give a full version like "1.33.1"');
    expect(kindConfig({ name: 'a', workers: 1, podSubnet: '10.10.0.0/16', serviceSubnet: '10.255.10.0/24' })['networking']).toEqual({ disableDefaultCNI: false, podSubnet: '10.10.0.0/16', serviceSubnet: '10.255.10.0/24' });
    expect(parseKindVersion('kind v0.30.0 go1.24.6 linux/amd64')).toEqual([0, 30, 0]);
  });
});
