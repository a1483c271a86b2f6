import { afterEach, describe, expect, it } from 'vitest';
import { planFault } from '../chaos/faults.js';
import { injectFault, type InjectedFault } from '../chaos/inject.js';
import { closeAll, meshedLab, MIN, spec, tools } from './helpers/fault-lab.js';
import type { Lab } from './helpers/twin-lab.js';

// A tick that starts where the last one did repeats the last one's effects instead of working
// them out (clusters/sim/mesh/tick-effects.ts). That must change nothing anyone can see: two labs,
// one repeating ticks and one working every tick out, go through the same changes and faults in
// step, and every series agrees, to the last digit, after every tick.

afterEach(closeAll);

const TICK = 10_000;

/** Every fault that can change what requests meet, with what each mesh refuses left out as it refuses. */
const FAULTS: unknown[] = [
  { type: 'ca-loss', variant: 'signer-unavailable' },
  { type: 'cert-expiry', lifetime: '10m' },
  { type: 'control-plane-partition', namespaces: ['client'] },
  { type: 'control-plane-crash', method: 'scale-to-zero' },
  { type: 'injector-outage' },
  { type: 'proxy-crash', namespaces: ['server'], share: '50%' },
  { type: 'http-fault', destination: 'server/api', abort: { httpStatus: 503, percentage: '30%' } },
  { type: 'node-loss', nodes: 1 },
  { type: 'proxy-cpu-saturation', namespaces: ['server'], limit: '1m' },
  { type: 'proxy-memory-leak', namespaces: ['server'], limit: '8Mi' },
  { type: 'circuit-breaker', destination: 'server/api' },
  { type: 'telemetry-drop', namespaces: ['server'] },
  { type: 'mtls-relaxation', namespaces: ['server'] },
];

/** Advances both labs a tick at a time; the first tick after which their metrics differ, if any. */
async function inStep(labs: [Lab, Lab], ms: number, what: string): Promise<string | undefined> {
  for (let t = 0; t < ms; t += TICK) {
    for (const lab of labs) await lab.advance(TICK);
    const [a, b] = labs.map((lab) => lab.lab.twin.metrics.exposition().split('\n'));
    const at = a!.findIndex((line, i) => line !== b![i]);
    if (at >= 0 || a!.length !== b!.length) return `${what}, ${t / 1000 + 10} s in: repeated ${a![at] ?? '(none)'}, worked out ${b![at] ?? '(none)'}`;
  }
  return undefined;
}

async function bothWays(mesh: 'istio' | 'linkerd', mode: 'sidecar' | 'ambient' = 'sidecar') {
  const repeated = await meshedLab(mesh, { tickMs: TICK, mode });
  const workedOut = await meshedLab(mesh, { tickMs: TICK, mode, repeatUnchangedTicks: false });
  return [repeated, workedOut] as [Lab, Lab];
}

describe('ticks that repeat the last one\'s effects', () => {
  it.each(['istio', 'linkerd'] as const)('%s: every series is what working each tick out gives, through config changes and every fault', async (mesh) => {
    const labs = await bothWays(mesh);
    const differences: string[] = [];
    const step = async (ms: number, what: string) => {
      const difference = await inStep(labs, ms, what);
      if (difference) differences.push(difference);
    };
    await step(3 * MIN, 'steady');
    for (const lab of labs) await lab.mtls('server', 'STRICT');
    await step(2 * MIN, 'after STRICT');
    for (const lab of labs) await lab.scale('server', 'api', 3);
    await step(2 * MIN, 'after scaling');
    for (const lab of labs) lab.traffic.setRpsScale(1.5);
    await step(2 * MIN, 'with more load');
    const done: string[] = [];
    for (const input of FAULTS) {
      const faults: InjectedFault[] = [];
      for (const lab of labs) {
        const { ctx, deps } = await tools(lab);
        const plan = await planFault(spec(input), ctx).catch(() => undefined);
        if (plan) faults.push(await injectFault(plan, deps));
      }
      if (faults.length === 0) continue;
      const type = (input as { type: string }).type;
      done.push(type);
      await step(4 * MIN, `during ${type}`);
      for (const fault of faults) await fault.revert();
      await step(3 * MIN, `after ${type}`);
    }

    expect(differences).toEqual([]);
    // The comparison means something only if ticks were repeated, and not all of them.
    const { total, repeated } = labs[0].traffic.ticks;
    expect(repeated).toBeGreaterThan(total / 3);
    expect(repeated).toBeLessThan(total);
    expect(labs[1].traffic.ticks.repeated).toBe(0);
    expect(done.length).toBeGreaterThanOrEqual(mesh === 'istio' ? 12 : 10);
  });

  it.each([
    ['istio', 'signer-unavailable'],
    ['linkerd', 'signer-unavailable'],
    ['istio', 'root-replaced'],
    ['linkerd', 'root-replaced'],
  ] as const)('%s: certificates that expire or renew onto another root (ca-loss %s) end the repeats when they do, not later', async (mesh, variant) => {
    const labs = [await meshedLab(mesh, { tickMs: TICK, certLifetimeMs: 20 * MIN }), await meshedLab(mesh, { tickMs: TICK, certLifetimeMs: 20 * MIN, repeatUnchangedTicks: false })] as [Lab, Lab];
    for (const lab of labs) {
      const { ctx, deps } = await tools(lab);
      await injectFault(await planFault(spec({ type: 'ca-loss', variant }), ctx), deps);
    }
    const before = labs[1].increase('meshdrill_client_requests_total', { code: '200' }, 0);

    const difference = await inStep(labs, 40 * MIN, variant);

    expect(difference).toBeUndefined();
    // The certificates did expire, or no longer chain to what their peers trust: requests fail by the end.
    const window = labs[1].edge('client/caller', 'server/api', labs[1].now - 2 * MIN, labs[1].now);
    expect(window.share).toBeLessThan(0.5);
    expect(labs[1].increase('meshdrill_client_requests_total', { code: '200' }, 0)).toBeGreaterThan(before);
    expect(labs[0].traffic.ticks.repeated).toBeGreaterThan(labs[0].traffic.ticks.total / 2);
  });

  it('istio ambient: every series is what working each tick out gives, through a CA loss and a lost node', async () => {
    const labs = await bothWays('istio', 'ambient');
    const differences: string[] = [];
    for (const input of [{ type: 'ca-loss', variant: 'signer-unavailable' }, { type: 'node-loss', nodes: 1 }]) {
      const faults: InjectedFault[] = [];
      for (const lab of labs) {
        const { ctx, deps } = await tools(lab);
        faults.push(await injectFault(await planFault(spec(input), ctx), deps));
      }
      differences.push(...[await inStep(labs, 5 * MIN, `during ${input.type}`)].filter((d) => d !== undefined));
      for (const fault of faults) await fault.revert();
      differences.push(...[await inStep(labs, 3 * MIN, `after ${input.type}`)].filter((d) => d !== undefined));
    }

    expect(differences).toEqual([]);
    expect(labs[0].traffic.ticks.repeated).toBeGreaterThan(labs[0].traffic.ticks.total / 3);
  });
});
