import { multiclusterSubnets } from './subnets.js';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ClusterError, type Logger } from '../../core/index.js';
import { exec, type ExecResult } from '../exec.js';
import { kindConfigYaml, type KindClusterOptions } from './config.js';
import { defaultLeaseDir, dropLease, holdLease, leaseIsLive, readLease, type ClusterLease } from './leases.js';

/** kindnet enforces NetworkPolicy from v0.24.0 on; control-plane partitions need it (mesh-facts §3.2). */
export const MIN_KIND = [0, 24, 0] as const;
export const CLUSTER_PREFIX = 'meshdrill-';

type Run = (args: string[], options?: { input?: string; timeoutMs?: number }) => Promise<ExecResult>;

/** `kind version` prints e.g. "kind v0.30.0 go1.24.6 linux/amd64". */
export function parseKindVersion(text: string): [number, number, number] | undefined {
  const match = /kind v(\d+)\.(\d+)\.(\d+)/.exec(text);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

export interface KindCluster {
  name: string;
  kubeconfigPath: string;
  kubeconfig: string;
  /** Exports the nodes' logs into the artifacts, then deletes the cluster (unless kept). */
  close(): Promise<void>;
}

export interface KindOptions extends Omit<KindClusterOptions, 'name'> {
  /** Where the kubeconfig, the kind config and exported logs go. */
  runDir: string;
  runId: string;
  keep: boolean;
  /** Reuse a cluster made from the same cluster and mesh config (named by their hash). */
  reuse: boolean;
  /** Hash input for --reuse: the cluster and mesh config. */
  fingerprint: string;
  logger: Pick<Logger, 'info' | 'warn'>;
  /** Attempts for `kind create cluster` (infrastructure errors, recorded). */
  attempts?: number;
  /** Where leases say which run holds which cluster (default: defaultLeaseDir()). */
  leaseDir?: string;
  /** Local Docker images loaded into the nodes (`kind load docker-image`), e.g. a custom test server. */
  images?: string[];
  run?: Run;
}

/**
 * A kind cluster for a run: the kind CLI checked and driven, an isolated kubeconfig (never the
 * user's current context), creation retried, node logs exported before every delete.
 */
export async function provisionKind(options: KindOptions): Promise<KindCluster> {
  const run: Run = options.run ?? ((args, o) => exec('kind', args, o ?? {}));
  const version = await run(['version']);
  const parsed = parseKindVersion(version.stdout);
  if (!parsed) throw new ClusterError(`could not read kind's version from "${version.stdout.trim() || version.stderr.trim()}"`);
  if (compare(parsed, MIN_KIND) < 0) throw new ClusterError(`kind v${parsed.join('.')} is too old: meshdrill needs ≥ v${MIN_KIND.join('.')}, where kindnet began enforcing NetworkPolicy (control-plane partitions rely on it); upgrade with \`go install sigs.k8s.io/kind@v0.30.0\``);

  const digest = createHash('sha256').update(options.fingerprint).digest('hex').slice(0, 10);
  const name = options.reuse ? `${CLUSTER_PREFIX}${digest}` : `${CLUSTER_PREFIX}${options.runId.replace(/[^a-z0-9-]/g, '-').slice(-30)}`.replace(/-+$/, '');
  await mkdir(options.runDir, { recursive: true });
  const kubeconfigPath = join(options.runDir, 'kubeconfig');
  const configPath = join(options.runDir, 'kind-config.yaml');
  await writeFile(configPath, kindConfigYaml({ ...options, name }));
  const leaseDir = options.leaseDir ?? defaultLeaseDir();
  const holder = await readLease(leaseDir, name);
  if (leaseIsLive(holder)) throw new ClusterError(`kind cluster ${name} is in use by run ${holder!.runId} (pid ${holder!.pid} on ${holder!.host}); wait for it to end, or run without --reuse`);
  // Held before creating, so a `clusters gc` running meanwhile leaves the half-made cluster alone.
  await holdLease(leaseDir, { cluster: name, runId: options.runId });

  const existing = (await run(['get', 'clusters'])).stdout.split('\n').map((l) => l.trim());
  if (options.reuse && existing.includes(name)) {
    options.logger.info({ name }, `reusing kind cluster ${name}`);
    const kubeconfig = await run(['get', 'kubeconfig', '--name', name]);
    if (kubeconfig.code !== 0) throw new ClusterError(`kind get kubeconfig --name ${name} failed: ${kubeconfig.stderr.trim()}`);
    await writeFile(kubeconfigPath, kubeconfig.stdout, { mode: 0o600 });
  } else {
    const attempts = options.attempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      options.logger.info({ name, attempt }, `creating kind cluster ${name} (${options.workers} workers)`);
      // --kubeconfig keeps the user's own kubeconfig and current context untouched.
      const created = await run(['create', 'cluster', '--name', name, '--config', configPath, '--kubeconfig', kubeconfigPath, '--wait', '180s'], { timeoutMs: 600_000 });
      if (created.code === 0) break;
      const reason = created.stderr.trim().split('\n').slice(-3).join(' | ');
      // A half-made cluster is removed before another try, its logs kept first.
      await run(['export', 'logs', join(options.runDir, `kind-logs-attempt-${attempt}`), '--name', name]);
      await run(['delete', 'cluster', '--name', name, '--kubeconfig', kubeconfigPath]);
      if (attempt >= attempts) {
        await dropLease(leaseDir, name);
        throw new ClusterError(`kind create cluster ${name} failed ${attempts} time${attempts === 1 ? '' : 's'}; last: ${reason}`);
      }
      options.logger.warn({ name, attempt, reason }, 'kind create cluster failed; retrying');
    }
  }
  /** The end of the cluster's use by this run: logs exported, then kept (the lease released) or deleted. */
  const release = async (keep: boolean) => {
    await run(['export', 'logs', join(options.runDir, 'kind-logs'), '--name', name]);
    if (keep) {
      // The run has ended: the lease stays, without a process, so gc knows whose cluster it was.
      await holdLease(leaseDir, { cluster: name, runId: options.runId, pid: null });
      options.logger.info({ name }, `kept kind cluster ${name}; \`meshdrill clusters gc\` or \`kind delete cluster --name ${name}\` removes it`);
      return;
    }
    await run(['delete', 'cluster', '--name', name, '--kubeconfig', kubeconfigPath]);
    await dropLease(leaseDir, name);
  };
  for (const image of options.images ?? []) {
    options.logger.info({ name, image }, `loading ${image} into ${name}`);
    const loaded = await run(['load', 'docker-image', image, '--name', name], { timeoutMs: 600_000 });
    if (loaded.code === 0) continue;
    // Nobody will get a handle to this cluster: it is released now (kept only for --reuse).
    await release(options.reuse);
    throw new ClusterError(`kind load docker-image ${image} failed: ${loaded.stderr.trim().split('\n').at(-1) ?? ''}${/not present locally/.test(loaded.stderr) ? ` — build or pull it first (docker pull ${image})` : ''}`);
  }
  const kubeconfig = await readFile(kubeconfigPath, 'utf8').catch(() => {
    throw new ClusterError(`kind did not write the kubeconfig to ${kubeconfigPath}`);
  });
  return {
    name,
    kubeconfigPath,
    kubeconfig,
    close: () => release(options.keep || options.reuse),
  };
}

/** A kind cluster meshdrill made, and what its lease says about the run that made it. */
export interface KindClusterState {
  name: string;
  /** The run's lease; absent for a cluster whose lease is gone (made elsewhere, or by an older meshdrill). */
  lease?: ClusterLease;
  /** A live run holds it: gc leaves it alone. */
  inUse: boolean;
}

/** `meshdrill clusters list`: every meshdrill kind cluster (named meshdrill-*) with its lease. */
export async function listKindClusters(options: { run?: Run; leaseDir?: string; isAlive?: (pid: number) => boolean } = {}): Promise<KindClusterState[]> {
  const run: Run = options.run ?? ((args, o) => exec('kind', args, o ?? {}));
  const leaseDir = options.leaseDir ?? defaultLeaseDir();
  const names = (await run(['get', 'clusters'])).stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith(CLUSTER_PREFIX));
  const out: KindClusterState[] = [];
  for (const name of names) {
    const lease = await readLease(leaseDir, name);
    out.push({ name, ...(lease ? { lease } : {}), inUse: leaseIsLive(lease, options.isAlive) });
  }
  return out;
}

/**
 * `meshdrill clusters gc`: deletes meshdrill's kind clusters whose run has ended — no lease, or a
 * lease whose process is gone (a killed run) or that was released when the cluster was kept —
 * and leaves alone those a live run holds, and those named in `except`.
 */
export async function collectKindClusters(options: { except: Set<string>; dryRun: boolean; run?: Run; leaseDir?: string; isAlive?: (pid: number) => boolean; logger: Pick<Logger, 'info'> }): Promise<{ deleted: string[]; inUse: string[] }> {
  const run: Run = options.run ?? ((args, o) => exec('kind', args, o ?? {}));
  const leaseDir = options.leaseDir ?? defaultLeaseDir();
  const deleted: string[] = [];
  const inUse: string[] = [];
  for (const { name, lease, inUse: live } of await listKindClusters({ run, leaseDir, ...(options.isAlive ? { isAlive: options.isAlive } : {}) })) {
    if (options.except.has(name)) continue;
    if (live) {
      inUse.push(name);
      options.logger.info({ name, runId: lease!.runId, pid: lease!.pid }, `kind cluster ${name} is in use by run ${lease!.runId} (pid ${lease!.pid} on ${lease!.host}); left alone`);
      continue;
    }
    deleted.push(name);
    if (options.dryRun) {
      options.logger.info({ name }, `DRY-RUN: would delete kind cluster ${name}${lease ? ` (run ${lease.runId} has ended)` : ''}`);
      continue;
    }
    await run(['delete', 'cluster', '--name', name]);
    await dropLease(leaseDir, name);
    options.logger.info({ name }, `deleted kind cluster ${name}`);
  }
  return { deleted, inUse };
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}



/** Several kind clusters for a multicluster game day, each with its own ranges, made one after another. */
export async function provisionKindClusters(count: number, options: KindOptions): Promise<KindCluster[]> {
  const made: KindCluster[] = [];
  try {
    for (let i = 0; i < count; i++) made.push(await provisionKind({ ...options, ...multiclusterSubnets(i), runId: `${options.runId}-c${i + 1}`, runDir: join(options.runDir, `cluster-${i + 1}`), fingerprint: `${options.fingerprint}#${i}` }));
  } catch (error) {
    // A fleet that is half made is no fleet: take down what was made.
    for (const cluster of made.reverse()) await cluster.close().catch(() => undefined);
    throw error;
  }
  return made;
}

export { multiclusterSubnets };
