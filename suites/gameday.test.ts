import { cp, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, documentsOfKind, loadConfig, captureIO } from '../test/helpers/cli.js';
import { parseRunRecord } from '../reports/index.js';
import { embeddedCluster } from './cluster-handle.js';
import { runGameDay } from './gameday.js';
import { GameDay } from './schema.js';

const SHOP = join(import.meta.dirname, '..', 'examples', 'shop');

/** The example repo with its game day replaced by `steps` (and optional abort conditions). */
async function repoWith(gameDay: Record<string, unknown>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'meshdrill-gameday-'));
  await cp(SHOP, dir, { recursive: true });
  await writeFile(join(dir, 'gameday.yaml'), JSON.stringify({ apiVersion: 'meshdrill.dev/v1alpha1', kind: 'GameDay', metadata: { name: 'test' }, spec: { plan: 'shop-migration', seed: 42, ...gameDay } }));
  return dir;
}

const SETUP = [{ provision: {} }, { install: { certLifetime: '1h' } }, { deploy: {} }, { stage: { to: 2 } }, { load: { duration: '10m' } }];
const SHOPPERS = [{ name: 'shoppers-unaffected', gates: [{ slo: 'frontend-availability' }] }];
// Calls between meshed namespaces fail at the TLS handshake, which no proxy reports: the callers' view sees it.
const CATALOG = [{ name: 'catalog-reachable', gates: [{ sli: 'success-rate', scope: { namespace: 'catalog' }, objective: '>= 99%', source: 'client' }] }];

describe('meshdrill gameday run (the example, on the embedded cluster)', () => {
  it('runs the example game day: stages, a CA loss, a partition, verdicts and a record, with every fault reverted', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'meshdrill-start-'));
    const io = { ...captureIO(cwd), env: { GITHUB_STEP_SUMMARY: join(cwd, 'summary.md') } };

    const code = await runCli(['gameday', 'run', join(SHOP, 'gameday.yaml'), '--out', 'out'], io);

    const text = io.out.join('');
    expect(code).toBe(0);
    expect(text).toMatch(/^game day weekly-mesh-resilience: PASS \(embedded cluster, istio sidecar, 13 steps\)/);
    expect(text).toContain('held hypothesis shop-stays-available');
    expect(text).toMatch(/fault ca-loss: CA loss \(signer-unavailable\) — no hypothesis failed while the fault was in; the shortest certificate had [\d.]+ min compressed \(≈ [\d.]+ h at a 24 h certificate lifetime\) left at its end/);
    expect(text).toContain('record: out/run.json\n  report: out/report.html');
    expect(await readFile(join(cwd, 'out', 'report.html'), 'utf8')).toContain('data-verdict="pass"');
    expect((await readFile(join(cwd, 'summary.md'), 'utf8')).split('\n')[0]).toBe('## ✅ meshdrill gameday: **PASS**');
    const record = parseRunRecord(JSON.parse(await readFile(join(cwd, 'out', 'run.json'), 'utf8')));
    expect(record.faults?.map((f) => [f.type, f.leftovers.length, f.revertedAt !== undefined])).toEqual([['ca-loss', 0, true], ['control-plane-partition', 0, true]]);
    // Each fault's plan was printed before it went in.
    const types = record.timeline.map((e) => e.type);
    expect(types.indexOf('fault-plan')).toBeLessThan(types.indexOf('fault-injected'));
    expect(io.err.join('')).toContain('plan for ca-loss: CA loss (signer-unavailable); scale Deployment/istio-system/istiod to 0');
  });

  it('aborts when an abort condition fails three times in a row, and reverts the fault at once', async () => {
    const dir = await repoWith({
      hypotheses: SHOPPERS,
      // Istio aborts in the caller's proxy: the request never reaches session, so only callers count it.
      abort: [{ sli: 'success-rate', scope: { service: 'frontend/session' }, objective: '>= 95%', source: 'client', consecutive: 3 }],
      steps: [...SETUP, { fault: { type: 'http-fault', destination: 'frontend/session', abort: { httpStatus: 503, percentage: '60%' }, duration: '30m' } }, { wait: '10m' }],
    });
    const io = captureIO(dir);

    const code = await runCli(['gameday', 'run', 'gameday.yaml', '--out', 'out', '-o', 'json'], io);

    const record = parseRunRecord(JSON.parse(io.out.join('')));
    expect(code).toBe(1);
    expect(record.outcome).toMatchObject({ verdict: 'aborted' });
    expect(record.outcome!.reasons[0]).toMatch(/^abort condition success-rate frontend\/session >= 95% failed 3 evaluations in a row/);
    expect(record.faults![0]).toMatchObject({ type: 'http-fault', leftovers: [] });
    const injected = Date.parse(record.faults![0]!.injectedAt);
    expect(Date.parse(record.faults![0]!.revertedAt!) - injected).toBeLessThanOrEqual(4 * 60_000);
    expect(record.steps!.map((s) => s.verb)).not.toContain('wait');
  });

  it('fails a hypothesis when certificates expire under a CA loss, and scales the time to impact to 24 h lifetimes', async () => {
    const dir = await repoWith({ hypotheses: CATALOG, steps: [...SETUP, { fault: { type: 'ca-loss', duration: '70m' } }] });
    const io = captureIO(dir);

    const code = await runCli(['gameday', 'run', 'gameday.yaml', '--out', 'out'], io);

    const record = parseRunRecord(JSON.parse(await readFile(join(dir, 'out', 'run.json'), 'utf8')));
    expect(code).toBe(1);
    expect(record.outcome!.verdict).toBe('fail');
    const impact = record.faults![0]!.impact!;
    const [, compressed, scaled] = /^first failures after ([\d.]+) min compressed \(≈ ([\d.]+) h at a 24 h certificate lifetime\)$/.exec(impact) ?? [];
    expect(Number(compressed)).toBeGreaterThan(0);
    expect(Number(compressed)).toBeLessThanOrEqual(70);
    expect(Number(scaled)).toBeCloseTo((Number(compressed) * 24) / 60, 0);
    expect(record.hypotheses![0]!.holds).toBe(false);
    expect(io.out.join('')).toContain('FAILED hypothesis catalog-reachable');
    // A run that failed leaves what a person needs beside its record.
    const diagnostics = await readdir(join(dir, 'out', 'diagnostics'));
    expect(diagnostics).toEqual(expect.arrayContaining(['istio-system.events.txt', 'istio-system.pods.yaml', 'catalog.events.txt', 'catalog.pods.yaml']));
    expect(diagnostics.some((f) => /^istio-system\.istiod-.*\.discovery\.log$/.test(f))).toBe(true);
    // The run's folder is inside the repo; its YAML dumps are evidence, not config: the repo still validates.
    const again = captureIO(dir);
    expect(await runCli(['validate', '.'], again), again.err.join('') + again.out.join('')).toBe(0);
  });

  it('compares relative objectives with the load step marked baseline: Inconclusive before it, Failed when a delay is injected', async () => {
    const edge = { from: 'frontend/web', to: 'catalog/api' };
    const hypotheses = [{ name: 'catalog-as-fast-as-before', gates: [{ sli: 'latency-p99', scope: { edge }, objective: '<= baseline + 20ms', window: '2m' }] }];
    const steps = [...SETUP.slice(0, 4), { load: { duration: '10m', baseline: true } }, { wait: '3m' }, { fault: { type: 'http-fault', destination: 'catalog/api', delay: { fixed: '100ms', percentage: '100%' }, duration: '10m' } }];
    const dir = await repoWith({ hypotheses, steps });

    const code = await runCli(['gameday', 'run', 'gameday.yaml', '--out', 'out'], captureIO(dir));

    const record = parseRunRecord(JSON.parse(await readFile(join(dir, 'out', 'run.json'), 'utf8')));
    const evaluations = record.hypotheses![0]!.evaluations;
    const baselineAt = Date.parse(record.timeline!.find((e) => e.type === 'baseline')!.at);
    const before = evaluations.filter((e) => Date.parse(e.at) <= baselineAt);
    const measured = evaluations.filter((e) => Date.parse(e.at) > baselineAt && e.phase === 'before');
    const during = evaluations.filter((e) => e.phase === 'during');
    expect(code).toBe(1);
    expect(before.length).toBeGreaterThan(0);
    expect(new Set(before.map((e) => `${e.verdict}: ${e.reason}`))).toEqual(new Set(['Inconclusive: the baseline window (the load step with baseline: true) has not run yet']));
    expect(measured.length).toBeGreaterThan(0);
    expect(measured.map((e) => `${e.verdict} ${e.reason}`).filter((v) => !v.startsWith("Successful"))).toEqual([]);
    // The threshold is the baseline's p99 plus 20 ms; the injected 100 ms breaks it.
    expect(during.at(-1)!.threshold!).toBeGreaterThan(20);
    expect(during.at(-1)!.threshold!).toBeLessThan(100);
    expect(during.at(-1)!.verdict).toBe('Failed');
    expect(during.at(-1)!.value!).toBeGreaterThan(100);
  });

  it('reverts every fault when interrupted, and ends as aborted', async () => {
    const dir = await repoWith({ hypotheses: SHOPPERS, steps: [...SETUP, { fault: { type: 'control-plane-partition', namespaces: ['frontend'], duration: '30m' } }] });
    const repo = await loadConfig(dir, { cwd: dir });
    let checks = 0;
    let interruptedAt = Number.NaN;
    let spy: Awaited<ReturnType<typeof embeddedCluster>> | undefined;
    const provision = async (seed: number) => {
      spy = await embeddedCluster({ seed });
      return spy;
    };

    const record = await runGameDay(
      {
        gameDay: GameDay.parse(documentsOfKind(repo, 'GameDay')[0]!.data),
        plan: documentsOfKind(repo, 'RolloutPlan')[0]!.data,
        topology: documentsOfKind(repo, 'Topology')[0]!.data,
        slos: documentsOfKind(repo, 'SLO').map((d) => d.data),
        faults: new Map(),
        runId: 'interrupted',
        journalDir: join(dir, 'journal'),
      },
      {
        provision,
        now: () => 0,
        logger: { info: () => undefined, warn: () => undefined },
        interrupted: () => {
          const policy = spy?.sim.api.find(spy.sim.api.types.find('networking.k8s.io', 'v1', 'networkpolicies')!, 'frontend', 'meshdrill-control-plane-partition');
          if (policy && ++checks === 5) interruptedAt = spy!.now();
          return checks >= 5 ? 'SIGINT' : undefined;
        },
      },
    );

    expect(record.outcome.verdict).toBe('aborted');
    expect(record.outcome.reasons[0]).toBe('interrupted (SIGINT)');
    expect(record.faults![0]!.leftovers).toEqual([]);
    expect(Date.parse(record.faults![0]!.revertedAt!)).toBe(interruptedAt);
  });

  it('checks a reachability matrix: allowed with and without mTLS, denied held over three windows', async () => {
    const dir = await repoWith({
      steps: [
        { provision: {} },
        { install: {} },
        { deploy: {} },
        { stage: { to: 3 } },
        { load: { duration: '5m' } },
        { fault: { type: 'http-fault', destination: 'payments/api', abort: { httpStatus: 503, percentage: '100%' } } },
        { wait: '5m' },
        {
          assert: {
            reachability: [
              { from: 'frontend/web', to: 'catalog/api', expect: 'allowed', mtls: true },
              { from: 'legacy/batch', to: 'payments/api', expect: 'allowed', mtls: false },
              { from: 'checkout/api', to: 'payments/api', expect: 'denied' },
              { from: 'legacy/batch', to: 'payments/api', expect: 'denied' },
            ],
          },
        },
      ],
    });
    const io = captureIO(dir);

    const code = await runCli(['gameday', 'run', '.', '--out', 'out', '-o', 'json'], io);

    const record = parseRunRecord(JSON.parse(io.out.join('')));
    expect(record.assertions!.map((a) => `${a.evaluation.gate}: ${a.evaluation.verdict}`)).toEqual([
      'reachability frontend/web → catalog/api allowed with mTLS: Successful',
      'reachability legacy/batch → payments/api allowed in plaintext: Successful',
      'reachability checkout/api → payments/api denied: Successful',
      'reachability legacy/batch → payments/api denied: Failed',
    ]);
    expect(record.assertions![1]!.evaluation.reason).toBe('success 100%, 100%, 100% over 3 × 60s; plaintext (the destination cannot identify the caller)');
    expect(code).toBe(1);
    expect(record.outcome!.reasons).toContain('step 8 (assert reachability (4 pairs)): legacy/batch → payments/api expected denied; observed success 100%, 100%, 100% over 3 × 60s');
  });

  it('--dry-run prints each fault\'s plan and injects nothing', async () => {
    const dir = await repoWith({ hypotheses: SHOPPERS, steps: [...SETUP, { fault: { type: 'ca-loss', duration: '10m' } }] });
    const io = captureIO(dir);

    const code = await runCli(['gameday', 'run', '.', '--dry-run', '--out', 'out'], io);

    const record = parseRunRecord(JSON.parse(await readFile(join(dir, 'out', 'run.json'), 'utf8')));
    expect(code).toBe(0);
    expect(record.faults).toEqual([]);
    expect(record.steps!.at(-1)!.detail).toBe('DRY-RUN: would inject CA loss (signer-unavailable)');
    expect(io.err.join('')).toContain('plan for ca-loss');
  });
});
