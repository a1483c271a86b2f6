import { afterEach, describe, expect, it } from 'vitest';
import { Lab, MICRO } from '../test/helpers/twin-lab.js';
import { dirname } from 'node:path';
import { closeAll, meshedLab, MIN, nodeControl, reopenJournal, snapshot, spec, tools } from '../test/helpers/fault-lab.js';
import { ChangeExecutor } from './changes.js';
import { planFault } from './faults.js';
import { injectFault, replayJournal } from './inject.js';
import { readJournal } from './journal.js';

afterEach(closeAll);

describe('faults on the embedded cluster: inject, observe, revert to exactly what was there', () => {
  it.each(['istio', 'linkerd'] as const)('%s: ca-loss signer-unavailable stops renewals; revert brings the signer back', async (mesh) => {
    const lab = await meshedLab(mesh, { certLifetimeMs: 60 * MIN });
    const { ctx, deps } = await tools(lab);
    const before = snapshot(lab);

    const plan = await planFault(spec({ type: 'ca-loss', variant: 'signer-unavailable' }), ctx);
    const fault = await injectFault(plan, deps);
    const during = await lab.window(70 * MIN, 'client/caller', 'server/api');
    const result = await fault.revert();
    await lab.advance(5 * MIN);

    expect(plan.changes.map((c) => c.type)).toEqual(['scale']);
    expect(during.share).toBeLessThan(1);
    expect(result.leftovers).toEqual([]);
    expect(snapshot(lab)).toBe(before);
  });

  it('istio: control-plane-partition cuts config to the namespace only, and its policy is gone after revert', async () => {
    const lab = await meshedLab('istio');
    const { ctx, deps } = await tools(lab);
    const before = snapshot(lab);

    const plan = await planFault(spec({ type: 'control-plane-partition', namespaces: ['client'] }), ctx);
    const fault = await injectFault(plan, deps);
    const policy = await lab.lab.kube.get('networking.k8s.io/v1', 'NetworkPolicy', 'client', 'meshdrill-control-plane-partition');
    await lab.advance(10 * MIN);
    const age = (lab.now - lab.lab.twin.metrics.gauge('envoy_cluster_manager_cds_update_time', { namespace: 'client' }, lab.now, 'min')) / 1000;
    const result = await fault.revert();

    expect(policy?.metadata.labels?.['meshdrill.dev/run-id']).toBe('run-1');
    expect(age).toBeGreaterThanOrEqual(9 * 60);
    expect(result.leftovers).toEqual([]);
    expect(snapshot(lab)).toBe(before);
  });

  it('istio: http-fault aborts at the meshed caller, and the VirtualService goes with the revert', async () => {
    const lab = await meshedLab('istio');
    const { ctx, deps } = await tools(lab);
    const before = snapshot(lab);

    const fault = await injectFault(await planFault(spec({ type: 'http-fault', destination: 'server/api', abort: { httpStatus: 503, percentage: '50%' } }), ctx), deps);
    const during = await lab.window(10 * MIN, 'client/caller', 'server/api');
    const result = await fault.revert();
    const after = await lab.window(10 * MIN, 'client/caller', 'server/api');

    expect(during.share).toBeGreaterThan(0.4);
    expect(during.share).toBeLessThan(0.6);
    expect(after.share).toBe(1);
    expect(result.leftovers).toEqual([]);
    expect(snapshot(lab)).toBe(before);
  });

  it.each(['istio', 'linkerd'] as const)('%s: ca-loss root-replaced and secret-deleted restore the CA material byte for byte', async (mesh) => {
    const lab = await meshedLab(mesh);
    const { ctx, deps } = await tools(lab);
    const before = snapshot(lab);

    for (const variant of ['root-replaced', 'secret-deleted'] as const) {
      const fault = await injectFault(await planFault(spec({ type: 'ca-loss', variant }), ctx), deps);
      await lab.advance(MIN);
      expect(snapshot(lab)).not.toBe(before);
      expect((await fault.revert()).leftovers).toEqual([]);
    }

    expect(snapshot(lab)).toBe(before);
  });

  it.each([
    { type: 'control-plane-crash', method: 'scale-to-zero' },
    { type: 'injector-outage' },
    { type: 'cert-expiry', lifetime: '30m' },
    { type: 'node-loss', nodes: 1 },
  ])('linkerd: $type reverts to the state before it', async (input) => {
    const lab = await meshedLab('linkerd');
    const { ctx, deps } = await tools(lab);
    const before = snapshot(lab);

    const fault = await injectFault(await planFault(spec(input), ctx), deps);
    await lab.advance(2 * MIN);
    const result = await fault.revert();
    await lab.advance(2 * MIN);

    expect(result.leftovers).toEqual([]);
    expect(snapshot(lab)).toBe(before);
  });

  it('refuses faults it cannot do honestly, before changing anything', async () => {
    const lab = await meshedLab('linkerd');
    const { ctx } = await tools(lab);

    await expect(planFault(spec({ type: 'http-fault', destination: 'server/api', abort: { httpStatus: 503, percentage: '10%' } }), ctx)).rejects.toThrow(/HTTPRoute/);
    await expect(planFault(spec({ type: 'node-loss', nodes: 3 }), ctx)).rejects.toThrow('node-loss of 3 would leave no worker node (the cluster has 3)');
  });

  it('a crash mid-fault leaves a journal whose replay restores the cluster', async () => {
    const lab = await meshedLab('istio');
    const first = await tools(lab, 'crashed-run');
    const before = snapshot(lab);
    await injectFault(await planFault(spec({ type: 'control-plane-partition', namespaces: ['client', 'server'] }), first.ctx), first.deps);
    await injectFault(await planFault(spec({ type: 'ca-loss', variant: 'signer-unavailable' }), first.ctx), first.deps);
    await first.journal.close();
    // The process is gone; a new one finds the journal.
    const journal = await reopenJournal(dirname(first.journal.path), 'crashed-run');

    const replayed = await replayJournal(journal, new ChangeExecutor(lab.lab.kube, undefined, 'crashed-run'));
    const again = await replayJournal(journal, new ChangeExecutor(lab.lab.kube, undefined, 'crashed-run'));

    expect(replayed.made).toEqual([
      'ca-loss: undid scale Deployment/istio-system/istiod to 0: the CA stops signing',
      'control-plane-partition: undid apply NetworkPolicy/server/meshdrill-control-plane-partition: pods in server cannot reach istio-system; everything else stays reachable',
      'control-plane-partition: undid apply NetworkPolicy/client/meshdrill-control-plane-partition: pods in client cannot reach istio-system; everything else stays reachable',
    ]);
    expect(again).toEqual({ made: [], leftAlone: [] });
    expect(snapshot(lab)).toBe(before);
    expect((await readJournal(journal.path)).filter((e) => 'done' in e)).toHaveLength(3);
  });
});

describe('fault plans', () => {
  it('say what they change, in order, with the mesh-specific caveats', async () => {
    const lab = await meshedLab('istio');
    const { ctx } = await tools(lab);

    const plan = await planFault(spec({ type: 'cert-expiry', lifetime: '10m' }), ctx);

    expect(plan.changes.map((c) => c.type)).toEqual(['apply', 'scale']);
    expect(plan.summary).toBe('certificate lifetime 10m, then the signer stops');
    expect((await planFault(spec({ type: 'ca-loss' }), ctx)).notes[0]).toContain('same istiod port (15012)');
    expect(MICRO.spec.namespaces.map((n) => n.name)).toContain('server');
  });
});
