import { ClusterError, ClusterRefused, type Logger } from '../core/index.js';
import type { KubeClient, KubeObject } from './kube/types.js';

/** Where a run's lease on a cluster lives: every cluster has kube-system, and nothing else uses this name. */
export const LEASE_NAMESPACE = 'kube-system';
export const LEASE_NAME = 'meshdrill';
const LEASE_API = 'coordination.k8s.io/v1';

/** Who holds a cluster. */
export interface LeaseHolder {
  runId: string;
  host: string;
  pid: number;
  startedAt: string;
  /** What the run is: "game day weekly-mesh-resilience". */
  what: string;
}

export interface RunLease {
  holder: LeaseHolder;
  /** Stops renewing and deletes the lease while this run still holds it. */
  release(): Promise<void>;
  /** Stops renewing only (the journal's undo deletes it later). */
  stop(): void;
  /** Resolves when the renewals asked for so far are written. */
  settled(): Promise<void>;
}

export interface LeaseOptions {
  /** How long the lease holds without renewal. Default 60 s. */
  durationSeconds?: number;
  /** Wall-clock time: leases are judged in real time whatever the cluster's clock does. */
  now?: () => number;
  logger: Pick<Logger, 'warn'>;
  /** Renewal timer; tests pass one that never fires. Default setInterval, every third of the duration. */
  every?: (ms: number, fn: () => void) => { cancel(): void };
}

const micro = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

function holderOf(lease: KubeObject): LeaseHolder {
  const a = lease.metadata.annotations ?? {};
  const spec = (lease['spec'] ?? {}) as LeaseSpec;
  return { runId: spec.holderIdentity ?? '?', host: a['meshdrill.dev/host'] ?? '?', pid: Number(a['meshdrill.dev/pid'] ?? 0), startedAt: a['meshdrill.dev/started-at'] ?? spec.acquireTime ?? '?', what: a['meshdrill.dev/what'] ?? 'a meshdrill run' };
}

function leaseObject(holder: LeaseHolder, spec: LeaseSpec, resourceVersion?: string): KubeObject {
  return {
    apiVersion: LEASE_API,
    kind: 'Lease',
    metadata: {
      name: LEASE_NAME,
      namespace: LEASE_NAMESPACE,
      ...(resourceVersion ? { resourceVersion } : {}),
      labels: { 'meshdrill.dev/run-id': holder.runId },
      annotations: { 'meshdrill.dev/host': holder.host, 'meshdrill.dev/pid': String(holder.pid), 'meshdrill.dev/started-at': holder.startedAt, 'meshdrill.dev/what': holder.what },
    },
    spec,
  };
}

/**
 * Takes the cluster for one run: a coordination.k8s.io/v1 Lease in kube-system, created before the
 * run's first change and renewed while it lives. A second run is refused at once with the holder
 * named; a lease whose holder stopped renewing (it was killed) is taken over with a warning.
 */
export async function acquireRunLease(kube: KubeClient, holder: LeaseHolder, options: LeaseOptions): Promise<RunLease> {
  const now = options.now ?? Date.now;
  const duration = options.durationSeconds ?? 60;
  const fresh: LeaseSpec = { holderIdentity: holder.runId, leaseDurationSeconds: duration, acquireTime: micro(now()), renewTime: micro(now()), leaseTransitions: 0 };
  try {
    await kube.create(leaseObject(holder, fresh));
  } catch (error) {
    if (!(error instanceof ClusterError) || error.status !== 409) throw error;
    await takeOver(kube, holder, fresh, now, options);
  }
  const every = options.every ?? ((ms, fn) => {
    const timer = setInterval(fn, ms);
    timer.unref();
    return { cancel: () => clearInterval(timer) };
  });
  let renewing: Promise<void> = Promise.resolve();
  const timer = every((duration * 1000) / 3, () => {
    renewing = renewing.then(() => renew(kube, holder, now, options.logger)).catch(() => undefined);
  });
  return {
    holder,
    stop: () => timer.cancel(),
    settled: () => renewing,
    async release() {
      timer.cancel();
      await renewing;
      const current = await kube.get(LEASE_API, 'Lease', LEASE_NAMESPACE, LEASE_NAME);
      if (current && (current['spec'] as LeaseSpec | undefined)?.holderIdentity === holder.runId) await kube.delete(LEASE_API, 'Lease', LEASE_NAMESPACE, LEASE_NAME);
    },
  };
}

async function takeOver(kube: KubeClient, holder: LeaseHolder, fresh: LeaseSpec, now: () => number, options: LeaseOptions): Promise<void> {
  const current = await kube.get(LEASE_API, 'Lease', LEASE_NAMESPACE, LEASE_NAME);
  if (!current) {
    await kube.create(leaseObject(holder, fresh));
    return;
  }
  const spec = (current['spec'] ?? {}) as LeaseSpec;
  const other = holderOf(current);
  if (spec.holderIdentity !== holder.runId) {
    const renewed = Date.parse(spec.renewTime ?? spec.acquireTime ?? '') || 0;
    const holdsFor = (spec.leaseDurationSeconds ?? 60) * 1000;
    const age = now() - renewed;
    if (age < holdsFor) {
      throw new ClusterRefused(`the cluster is in use by run ${other.runId} (${other.what}, on host ${other.host}, pid ${other.pid}, since ${other.startedAt}): its lease ${LEASE_NAMESPACE}/${LEASE_NAME} was renewed ${Math.round(age / 1000)} s ago and holds for ${holdsFor / 1000} s. One run per cluster: wait for it to end; if it was killed, \`meshdrill cleanup\` takes back what it left and releases the lease`);
    }
    options.logger.warn({ holder: other.runId }, `taking over the cluster's lease from run ${other.runId} (${other.what}, host ${other.host}, pid ${other.pid}): it has not been renewed for ${Math.round(age / 1000)} s, so that run is gone; \`meshdrill cleanup --run-id ${other.runId}\` takes back what it left`);
  }
  // The resourceVersion makes the take-over conditional: of two runs taking over at once, one wins.
  try {
    await kube.mergePatch(LEASE_API, 'Lease', LEASE_NAMESPACE, LEASE_NAME, { metadata: { resourceVersion: current.metadata.resourceVersion, labels: { 'meshdrill.dev/run-id': holder.runId }, annotations: leaseObject(holder, fresh).metadata.annotations }, spec: { ...fresh, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 } });
  } catch (error) {
    if (error instanceof ClusterError && error.status === 409) throw new ClusterRefused(`another run took the cluster's lease ${LEASE_NAMESPACE}/${LEASE_NAME} at the same moment; one run per cluster`);
    throw error;
  }
}

async function renew(kube: KubeClient, holder: LeaseHolder, now: () => number, logger: Pick<Logger, 'warn'>): Promise<void> {
  const current = await kube.get(LEASE_API, 'Lease', LEASE_NAMESPACE, LEASE_NAME);
  if (!current || (current['spec'] as LeaseSpec | undefined)?.holderIdentity !== holder.runId) {
    logger.warn({ runId: holder.runId }, `the cluster's lease ${LEASE_NAMESPACE}/${LEASE_NAME} is no longer this run's (held by ${current ? holderOf(current).runId : 'nobody'})`);
    return;
  }
  await kube.mergePatch(LEASE_API, 'Lease', LEASE_NAMESPACE, LEASE_NAME, { metadata: { resourceVersion: current.metadata.resourceVersion }, spec: { renewTime: micro(now()) } });
}

/** Who holds the cluster now, if anyone. */
export async function leaseHolder(kube: KubeClient): Promise<LeaseHolder | undefined> {
  const current = await kube.get(LEASE_API, 'Lease', LEASE_NAMESPACE, LEASE_NAME);
  return current ? holderOf(current) : undefined;
}
