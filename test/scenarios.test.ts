import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseRunRecord, type RunRecord } from '../reports/index.js';
import { captureIO, runCli } from './helpers/cli.js';

// The scenario game days in examples/scenarios/, run as a user runs them, and each once with one
// step taken away to show the verdict depends on what the scenario claims.
const SCENARIOS = join(import.meta.dirname, '..', 'examples', 'scenarios');

async function run(file: string, edit?: (steps: Record<string, unknown>[]) => Record<string, unknown>[]): Promise<{ code: number; text: string; record: RunRecord }> {
  const dir = await mkdtemp(join(tmpdir(), 'meshdrill-scenario-'));
  await cp(SCENARIOS, dir, { recursive: true });
  if (edit) {
    const doc = parse(await readFile(join(dir, file), 'utf8')) as { spec: { steps: Record<string, unknown>[] } };
    doc.spec.steps = edit(doc.spec.steps);
    await writeFile(join(dir, file), stringify(doc));
  }
  const io = captureIO(dir);
  const code = await runCli(['gameday', 'run', file, '--out', 'out'], io);
  const record = parseRunRecord(JSON.parse(await readFile(join(dir, 'out', 'run.json'), 'utf8')));
  return { code, text: io.out.join('') + io.err.join(''), record };
}

const without = (name: string) => (steps: Record<string, unknown>[]) => {
  const kept = steps.filter((s) => s['name'] !== name);
  expect(kept.length).toBe(steps.length - 1);
  return kept;
};

describe('scenario: certificate rotation fails', () => {
  it('degrades traffic, keeps the emergency from reaching proxies while istiod is down, recovers, and ends with mTLS as planned', async () => {
    const { code, text, record } = await run('cert-rotation-failure.yaml');

    expect(code, text).toBe(0);
    expect(record.outcome!.verdict).toBe('pass');
    expect(record.faults!.map((f) => [f.name, f.type, f.leftovers.length, f.revertedAt !== undefined])).toEqual([
      ['rotation-fails', 'ca-loss', 0, true],
      ['emergency', 'mtls-relaxation', 0, true],
    ]);
    // The emergency went in after the CA loss and came out after it: reverted by name, in the order written.
    const [ca, emergency] = record.faults!;
    expect(Date.parse(emergency!.injectedAt)).toBeGreaterThan(Date.parse(ca!.injectedAt));
    expect(Date.parse(emergency!.revertedAt!)).toBeGreaterThan(Date.parse(ca!.revertedAt!));
    const verdicts = record.assertions!.map((a) => [a.evaluation.gate, a.evaluation.verdict]);
    expect(verdicts.at(-1)).toEqual(['mTLS as planned', 'Successful']);
    expect(verdicts.every(([, v]) => v === 'Successful')).toBe(true);
  });

  it('fails when the emergency relaxation is never taken back, naming what outlived the incident', async () => {
    const { code, record } = await run('cert-rotation-failure.yaml', without('the emergency is over'));

    expect(code).toBe(1);
    expect(record.outcome!.verdict).toBe('fail');
    const last = record.assertions!.at(-1)!.evaluation;
    expect(last).toMatchObject({ gate: 'mTLS as planned', verdict: 'Failed' });
    expect(last.reason).toMatch(/PeerAuthentication (web|shop|data)\/\S+ sets PERMISSIVE where stage 1 wants STRICT/);
    expect(last.reason).toMatch(/DestinationRule \S+ sends plaintext to/);
    // The run still took it back on the way out: a game day leaves nothing behind.
    expect(record.faults!.find((f) => f.name === 'emergency')).toMatchObject({ leftovers: [] });
    expect(record.faults!.find((f) => f.name === 'emergency')!.revertedAt).toBeDefined();
  });
});

describe('scenario: control-plane high availability', () => {
  it('absorbs one lost istiod replica, shows the known impact of losing both, and recovers', async () => {
    const { code, text, record } = await run('control-plane-ha.yaml');

    expect(code, text).toBe(0);
    expect(record.steps!.find((s) => s.verb === 'install')!.detail).toContain('control plane at 2 replicas with PodDisruptionBudgets');
    expect(text).toContain('control-plane pods deleted (1 of 2)');
    expect(record.hypotheses![0]!.holds).toBe(true);
    const ages = record.assertions!.filter((a) => a.evaluation.gate.startsWith('proxy-config-age')).map((a) => a.evaluation.value!);
    expect(ages).toHaveLength(3);
    // A live istiod keeps config under its 30-minute stream age; a dead one lets it age past that (ms).
    expect(ages[0]).toBeLessThanOrEqual(30 * 60_000);
    expect(ages[1]).toBeGreaterThanOrEqual(45 * 60_000);
    expect(ages[2]).toBeLessThanOrEqual(5 * 60_000);
  });

  // istiod closes each xDS stream after 30 minutes and the proxy gets everything again on
  // reconnecting, so a healthy mesh's config never ages past that, quiet or not.
  it('fails the known-impact step when istiod never goes down: the scenario measures the outage, not the clock', async () => {
    const { code, record } = await run('control-plane-ha.yaml', (steps) => without('istiod is back')(without('lose both replicas')(steps)));

    expect(code).toBe(1);
    const failed = record.assertions!.filter((a) => a.evaluation.verdict !== 'Successful').map((a) => a.evaluation.reason ?? '');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatch(/misses >= 2400s/);
  });
});

describe('scenario: a regional outage under Istio multi-primary', () => {
  it('spreads west\'s calls over both regions, loses east, waits out connect timeouts until Kubernetes notices, then serves from west alone', async () => {
    const { code, text, record } = await run('regional-failover.yaml');

    expect(code, text).toBe(0);
    expect(record.faults!.map((f) => [f.type, f.leftovers.length, f.revertedAt !== undefined])).toEqual([['region-loss', 0, true]]);
    const values = record.assertions!.map((a) => a.evaluation.value!);
    // Half of west's calls cross (7 of 16 endpoint shares: the single db pod has a twin in east); 40 ms more each.
    expect(values[0]).toBeGreaterThan(0.4);
    expect(values[1]).toBeCloseTo(40, 0);
    // Read in east: its sidecars serve west's callers a share of the storefront's 50 rps per hop.
    expect(record.assertions![2]!.evaluation.gate).toBe('promql mesh');
    expect(values[2]).toBeGreaterThan(10);
    // Connect timeouts (10 s each) before the nodes go NotReady; afterwards faster than the baseline, every request served.
    expect(values[3]).toBeGreaterThan(5_000);
    expect(values[4]).toBe(100);
    expect(values[5]).toBeLessThan(values[3]!);
    expect(record.assertions!.every((a) => a.evaluation.verdict === 'Successful')).toBe(true);
  });

  it('fails the connect-timeout and faster-than-before steps when no region is lost: the scenario measures the outage', async () => {
    const { code, record } = await run('regional-failover.yaml', (steps) => without('the region is back')(without('east\'s region goes down')(steps)));

    expect(code).toBe(1);
    const failed = record.assertions!.filter((a) => a.evaluation.verdict !== 'Successful');
    // No connect timeouts, and no faster than the baseline: east still serves half, a round trip away.
    expect(failed.map((a) => a.evaluation.gate)).toEqual(['latency-p99 shop', 'latency-p99 shop']);
  });
});

