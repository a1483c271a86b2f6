import { afterEach, describe, expect, it } from 'vitest';
import { ClusterRefused } from '../core/index.js';
import { createKubeClient } from './kube/index.js';
import { acquireRunLease, leaseHolder } from './run-lease.js';
import { startSimCluster, type SimCluster } from './sim/index.js';

const sims: SimCluster[] = [];
afterEach(async () => {
  for (const s of sims.splice(0)) await s.close();
});

const holder = (runId: string) => ({ runId, host: 'ci-1', pid: 42, startedAt: '2026-12-01T10:00:00.000Z', what: `game day ${runId}` });
const never = () => ({ cancel: () => undefined });

describe('clusters/run-lease', () => {
  it('holds the cluster for one run: a second is refused with the holder named; once released, the next takes it', async () => {
    const sim = await startSimCluster();
    sims.push(sim);
    const kube = createKubeClient(sim.kubeconfig);
    let now = Date.parse('2026-12-01T10:00:00Z');
    const options = { now: () => now, logger: { warn: () => undefined }, every: never };

    const first = await acquireRunLease(kube, holder('run-a'), options);
    now += 30_000;
    const refused = await acquireRunLease(kube, holder('run-b'), options).catch((e: unknown) => e);
    await first.release();
    const next = await acquireRunLease(kube, holder('run-b'), options);

    expect(refused).toBeInstanceOf(ClusterRefused);
    expect((refused as Error).message).toBe('the cluster is in use by run run-a (game day run-a, on host ci-1, pid 42, since 2026-12-01T10:00:00.000Z): its lease kube-system/meshdrill was renewed 30 s ago and holds for 60 s. One run per cluster: wait for it to end; if it was killed, `meshdrill cleanup` takes back what it left and releases the lease');
    expect((await leaseHolder(kube))?.runId).toBe('run-b');
    await next.release();
    expect(await leaseHolder(kube)).toBeUndefined();
  });

  it('takes over a lease nobody renewed (its run was killed), with a warning naming that run', async () => {
    const sim = await startSimCluster();
    sims.push(sim);
    const kube = createKubeClient(sim.kubeconfig);
    let now = Date.parse('2026-12-01T10:00:00Z');
    const warnings: string[] = [];
    const options = { now: () => now, logger: { warn: (_m: unknown, msg: string) => void warnings.push(msg) }, every: never };
    await acquireRunLease(kube, holder('run-killed'), options);

    now += 61_000;
    const taken = await acquireRunLease(kube, holder('run-new'), options);

    expect(warnings).toEqual(['taking over the cluster\'s lease from run run-killed (game day run-killed, host ci-1, pid 42): it has not been renewed for 61 s, so that run is gone; `meshdrill cleanup --run-id run-killed` takes back what it left']);
    expect((await leaseHolder(kube))?.runId).toBe('run-new');
    const lease = await kube.get('coordination.k8s.io/v1', 'Lease', 'kube-system', 'meshdrill');
    expect(lease?.['spec']).toMatchObject({ holderIdentity: 'run-new', leaseTransitions: 1 });
    await taken.release();
  });

  it('renews while the run lives, so a live run is never taken over', async () => {
    const sim = await startSimCluster();
    sims.push(sim);
    const kube = createKubeClient(sim.kubeconfig);
    let now = Date.parse('2026-12-01T10:00:00Z');
    let tick: (() => void) | undefined;
    const lease = await acquireRunLease(kube, holder('run-a'), { now: () => now, logger: { warn: () => undefined }, every: (_ms, fn) => ((tick = fn), { cancel: () => (tick = undefined) }) });

    // 100 s after it was taken, well past the 60 s a lease holds, but renewed every 20 s.
    for (let i = 0; i < 5; i++) {
      now += 20_000;
      tick!();
    }
    await lease.settled();
    const other = await acquireRunLease(kube, holder('run-b'), { now: () => now, logger: { warn: () => undefined }, every: never }).catch((e: unknown) => e);

    expect(other).toBeInstanceOf(ClusterRefused);
    expect((other as Error).message).toContain('was renewed 0 s ago');
    await lease.release();
  });
});
