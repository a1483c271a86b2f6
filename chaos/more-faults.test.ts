import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedSource } from '../slo/index.js';
import type { Scope, SliKey } from '../model/index.js';
import type { Lab } from '../test/helpers/twin-lab.js';
import { closeAll, meshedLab, MIN, podLabels, snapshot, spec, tools } from '../test/helpers/fault-lab.js';
import { planFault } from './faults.js';
import { injectFault } from './inject.js';

// The rest of the practice guides' failure modes: each injected on the embedded cluster, its
// effect seen through the SLIs a gate reads, and the cluster after the revert byte for byte as it
// was. Where a mesh has no such mechanism, the plan is refused with the reason.

afterEach(closeAll);

async function sli(lab: Lab, sli: SliKey, scope: Scope, windowMs = 5 * MIN): Promise<number> {
  const source = new EmbeddedSource(lab.lab.twin.metrics, lab.lab.adapter.name, lab.lab.adapter.mode);
  return (await source.measure(sli, scope, { from: lab.now - windowMs, to: lab.now })).value;
}

/** Plans, injects, lets `ms` pass, measures, reverts; and the cluster's objects before and after. */
async function rehearse(lab: Lab, input: unknown, ms: number, during: (lab: Lab) => Promise<Record<string, number>>) {
  const { ctx, deps } = await tools(lab);
  const before = snapshot(lab);
  const labels = podLabels(lab);
  const plan = await planFault(spec(input), ctx);
  const fault = await injectFault(plan, deps);
  await lab.advance(ms);
  const measured = await during(lab);
  const result = await fault.revert();
  await lab.advance(2 * MIN);
  return { plan, measured, leftovers: result.leftovers, same: snapshot(lab) === before, before, after: snapshot(lab), labelsBefore: labels };
}

describe('the practice guides\' other failure modes, on the embedded cluster', () => {
  it.each(['istio', 'linkerd'] as const)('%s: proxy-cpu-saturation slows and sheds the namespace\'s requests, and the templates are as they were after the revert', async (mesh) => {
    const lab = await meshedLab(mesh, { tickMs: 10_000 });
    const healthy = await sli(lab, 'success-rate', { namespace: 'server' });

    const run = await rehearse(lab, { type: 'proxy-cpu-saturation', namespaces: ['server'], limit: '1m' }, 5 * MIN, async (l) => ({ success: await sli(l, 'success-rate', { edge: { from: 'client/caller', to: 'server/api' } }, 2 * MIN), cpu: await sli(l, 'proxy-cpu', { namespace: 'server' }, 2 * MIN) }));

    expect(healthy).toBe(100);
    expect(run.plan.changes.map((c) => c.type)).toEqual(['patch']);
    // linkerd2-proxy needs a tenth of Envoy's CPU per request, so it sheds less under the same limit.
    expect(run.measured['success']).toBeLessThan(mesh === 'istio' ? 50 : 90);
    // The proxies use what their limit allows, 1 millicore, and no more.
    expect(run.measured['cpu']).toBeCloseTo(0.001, 4);
    expect(run.leftovers).toEqual([]);
    expect(run.after).toBe(run.before);
  });

  it.each(['istio', 'linkerd'] as const)('%s: proxy-memory-leak OOM-kills the proxies over their limit: restarts, and failed requests while they are down', async (mesh) => {
    const lab = await meshedLab(mesh, { tickMs: 10_000 });

    const run = await rehearse(lab, { type: 'proxy-memory-leak', namespaces: ['server'], limit: '8Mi' }, 10 * MIN, async (l) => ({ restarts: await sli(l, 'proxy-restarts', { namespace: 'server' }, 10 * MIN), success: await sli(l, 'success-rate', { edge: { from: 'client/caller', to: 'server/api' } }, 5 * MIN) }));

    // Back-off 10 s, 20 s, 40 s, … : several restarts per pod in ten minutes.
    expect(run.measured['restarts']).toBeGreaterThan(12);
    expect(run.measured['success']).toBeLessThan(50);
    expect(run.plan.notes.join(' ')).toContain('meshdrill cannot make a proxy leak through the Kubernetes API');
    expect(run.leftovers).toEqual([]);
    expect(run.after).toBe(run.before);
  });

  it('istio: circuit-breaker trips the callers\' breakers (503 UO); its DestinationRule is gone after the revert', async () => {
    const lab = await meshedLab('istio', { tickMs: 10_000 });

    const run = await rehearse(lab, { type: 'circuit-breaker', destination: 'server/api' }, 5 * MIN, async (l) => ({ trips: await sli(l, 'circuit-breaker-trips', { service: 'server/api' }), success: await sli(l, 'success-rate', { edge: { from: 'client/caller', to: 'server/api' } }) }));

    expect(run.measured['trips']).toBeGreaterThan(0);
    expect(run.measured['success']).toBeLessThan(100);
    expect(run.leftovers).toEqual([]);
    expect(run.after).toBe(run.before);
  });

  it('istio: telemetry-drop takes the proxies\' series away: up 0, the request SLIs Inconclusive (no data), and back after the revert', async () => {
    const lab = await meshedLab('istio', { tickMs: 10_000 });

    const run = await rehearse(lab, { type: 'telemetry-drop', namespaces: ['server'] }, 6 * MIN, async (l) => ({ up: await sli(l, 'telemetry-ingestion', { namespace: 'server' }), success: await sli(l, 'success-rate', { namespace: 'server' }), served: (await l.window(MIN, 'client/caller', 'server/api')).share }));
    await lab.advance(5 * MIN);
    const back = await sli(lab, 'success-rate', { namespace: 'server' });

    expect(run.measured['up']).toBe(0);
    expect(Number.isNaN(run.measured['success'])).toBe(true);
    // Only the telemetry is gone: the callers are served as before.
    expect(run.measured['served']).toBe(1);
    expect(back).toBe(100);
    expect(run.leftovers).toEqual([]);
    expect(run.after).toBe(run.before);
  });

  it.each(['istio', 'linkerd'] as const)('%s: routing-loop sends each service\'s callers to the other, once — no amplification — and its routes are gone after the revert', async (mesh) => {
    const lab = await meshedLab(mesh, { tickMs: 10_000 });
    const served = (l: Lab, workload: string) => l.increase(mesh === 'istio' ? 'istio_requests_total' : 'response_total', mesh === 'istio' ? { reporter: 'destination', destination_workload: workload } : { direction: 'inbound', deployment: workload }, l.now - 2 * MIN);

    const run = await rehearse(lab, { type: 'routing-loop', services: ['server/api', 'client/rare'] }, 5 * MIN, async (l) => ({ api: served(l, 'api'), rare: served(l, 'rare') }));

    // Over two minutes the two are offered 30.2 rps: server/api client/caller's 20, client/rare's
    // 0.1 (meshed: their proxies send both to client/rare) and legacy's 10 (unmeshed: no proxy
    // routes it, it still reaches server/api); client/rare its 0.1 from outside. Nothing goes round
    // again: what the two serve is what they were offered.
    expect(run.measured['api']).toBeCloseTo(120 * 10, -1);
    expect(run.measured['rare']).toBeCloseTo(120 * 20.2, -1);
    expect(run.measured['api']! + run.measured['rare']!).toBeCloseTo(120 * 30.2, -1);
    expect(run.leftovers).toEqual([]);
    expect(run.after).toBe(run.before);
  });

  it('istio: zone-partition cuts the pods on the lost nodes off from the rest; the pods\' labels are as they were after the revert', async () => {
    const lab = await meshedLab('istio', { tickMs: 10_000 });
    const node = String((lab.pods('server')[0]!.spec as { nodeName: string }).nodeName);

    const run = await rehearse(lab, { type: 'zone-partition', nodes: [node] }, 3 * MIN, async (l) => ({ success: await sli(l, 'success-rate', { edge: { from: 'client/caller', to: 'server/api' } }, 2 * MIN) }));

    // Callers elsewhere reach only server/api's pods elsewhere; the one on the lost node refuses them.
    expect(run.measured['success']).toBeLessThan(100);
    expect(run.plan.changes.filter((c) => c.type === 'patch').length).toBeGreaterThan(0);
    expect(run.leftovers).toEqual([]);
    expect(run.after).toBe(run.before);
    expect(podLabels(lab)).toBe(run.labelsBefore);
  });

  it.each(['istio', 'linkerd'] as const)('%s: mtls-relaxation lets the unmeshed caller in while it lasts; STRICT is back, byte for byte, after the revert', async (mesh) => {
    const lab = await meshedLab(mesh, { tickMs: 10_000 });
    await lab.mtls('server', 'STRICT');
    const strict = await lab.window(5 * MIN, 'legacy/batch', 'server/api');

    const run = await rehearse(lab, { type: 'mtls-relaxation', namespaces: ['server'] }, 5 * MIN, async (l) => ({ legacy: l.edge('legacy/batch', 'server/api', l.now - 2 * MIN, l.now).share, plaintext: await sli(l, 'plaintext-share', { namespace: 'server' }, 2 * MIN) }));
    const after = await lab.window(5 * MIN, 'legacy/batch', 'server/api');

    expect(strict.share).toBe(0);
    expect(run.measured['legacy']).toBe(1);
    expect(run.measured['plaintext']).toBeGreaterThan(0);
    expect(run.plan.probes.map((p) => p.sli)).toEqual(['plaintext-share']);
    expect(run.leftovers).toEqual([]);
    expect(run.after).toBe(run.before);
    expect(after.share).toBe(0);
  });

  it('refuses what a mesh cannot do, or what could widen a team\'s own NetworkPolicy, and says why', async () => {
    const linkerd = await meshedLab('linkerd');
    const { ctx } = await tools(linkerd);
    await linkerd.apply({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'only-client', namespace: 'server' }, spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'client' } } }] }] } });

    const breaker = await planFault(spec({ type: 'circuit-breaker', destination: 'server/api' }), ctx).catch((e: Error) => e.message);
    const drop = await planFault(spec({ type: 'telemetry-drop', namespaces: ['server'] }), ctx).catch((e: Error) => e.message);
    const unmeshed = await planFault(spec({ type: 'proxy-cpu-saturation', namespaces: ['legacy'] }), ctx).catch((e: Error) => e.message);
    const plaintext = await planFault(spec({ type: 'mtls-relaxation', namespaces: ['server'], plaintext: true }), ctx).catch((e: Error) => e.message);
    const region = await planFault(spec({ type: 'region-loss', cluster: 'east' }), ctx).catch((e: Error) => e.message);
    const elsewhere = await planFault(spec({ type: 'region-loss', cluster: 'esat' }), { ...ctx, nodes: ['west/sim-worker', 'east/sim-worker'] }).catch((e: Error) => e.message);

    expect(breaker).toContain('Linkerd has no connection-pool circuit breaker');
    expect(drop).toBe('telemetry-drop: namespace server has Ingress NetworkPolicies of its own (only-client); NetworkPolicies only add what they allow, so the fault\'s policy could let in what they keep out — refused');
    expect(unmeshed).toBe('proxy-cpu-saturation: namespace legacy has no pods with a linkerd-proxy sidecar to limit');
    expect(plaintext).toContain('Linkerd cannot turn a meshed client\'s mTLS off');
    expect(region).toBe('region-loss takes down one cluster of a fleet; this run has one cluster (node-loss stops some of its nodes)');
    expect(elsewhere).toBe('region-loss: no cluster "esat" in this fleet; did you mean "east"? (its clusters: west, east)');
  });
});
