import { cp, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, documentsOfKind, loadConfig, captureIO } from '../test/helpers/cli.js';
import { ClusterError } from '../core/index.js';
import { parseRunRecord } from '../reports/index.js';
import { embeddedCluster } from './cluster-handle.js';
import { Suite } from './schema.js';
import { isInfrastructureError, runSuite } from './suite.js';

const SHOP = join(import.meta.dirname, '..', 'examples', 'shop');
const SETUP = { name: 'setup', try: [{ provision: {} }, { install: {} }, { deploy: {} }] };

async function repoWith(suite: Record<string, unknown>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'meshdrill-suite-'));
  await cp(SHOP, dir, { recursive: true });
  await writeFile(join(dir, 'suite.yaml'), JSON.stringify({ apiVersion: 'meshdrill.dev/v1alpha1', kind: 'Suite', metadata: { name: 'strict-payments' }, spec: { plan: 'shop-migration', ...suite } }));
  return dir;
}

describe('meshdrill suite run', () => {
  it('runs catch when a try operation fails, finally always, and fails the run', async () => {
    const dir = await repoWith({
      steps: [
        SETUP,
        {
          name: 'legacy is cut off by STRICT',
          try: [{ stage: { to: 3 } }, { load: { duration: '3m', warmUp: '0s' } }, { assert: { reachability: [{ from: 'legacy/batch', to: 'payments/api', expect: 'denied' }] } }, { wait: '1m' }],
          catch: [{ name: 'what callers of payments saw', assert: { sli: 'success-rate', scope: { service: 'payments/api' }, objective: '>= 99%', source: 'client' } }],
          finally: [{ stage: { to: 0 } }],
        },
      ],
    });
    const io = captureIO(dir);

    const code = await runCli(['suite', 'run', 'suite.yaml', '--out', 'out', '-o', 'json'], io);

    const record = parseRunRecord(JSON.parse(io.out.join('')));
    expect(code).toBe(1);
    expect(record.kind).toBe('suite');
    expect(record.steps!.map((s) => `${s.name}: ${s.status}`)).toEqual([
      'setup › provision: ok',
      'setup › install: ok',
      'setup › deploy: ok',
      'legacy is cut off by STRICT › stage 3: ok',
      'legacy is cut off by STRICT › load 3m: ok',
      'legacy is cut off by STRICT › assert reachability (1 pairs): failed',
      'legacy is cut off by STRICT › catch: what callers of payments saw: ok',
      'legacy is cut off by STRICT › finally: stage 0: ok',
    ]);
    expect(record.outcome!.verdict).toBe('fail');
  });

  it('fails an operation that would run past its inherited timeout, before it starts', async () => {
    const dir = await repoWith({ timeout: '2m', steps: [SETUP, { name: 'soak', timeout: '5m', try: [{ wait: '4m' }, { wait: '10m' }] }] });
    const io = captureIO(dir);

    const code = await runCli(['suite', 'run', '.', '--out', 'out'], io);

    expect(code).toBe(1);
    expect(io.out.join('')).toContain('soak › wait 10m: takes 600s of cluster time, over its timeout of 300s');
  });

  it('retries infrastructure errors quietly and reports a step that passed on retry as flaky', async () => {
    const dir = await repoWith({ steps: [SETUP] });
    const repo = await loadConfig(dir, { cwd: dir });
    let provisions = 0;

    const record = await runSuite(
      {
        suite: Suite.parse(documentsOfKind(repo, 'Suite')[0]!.data),
        plan: documentsOfKind(repo, 'RolloutPlan')[0]!.data,
        topology: documentsOfKind(repo, 'Topology')[0]!.data,
        slos: [],
        faults: new Map(),
        runId: 'flaky',
        journalDir: join(dir, 'journal'),
      },
      {
        provision: async (seed) => {
          if (++provisions === 1) throw new ClusterError('the API server is not ready yet (connection refused)');
          return embeddedCluster({ seed });
        },
        now: () => 0,
        logger: { info: () => undefined, warn: () => undefined },
      },
    );

    expect(provisions).toBe(2);
    expect(record.outcome).toEqual({ verdict: 'flaky', reasons: ['setup: passed only after 1 retried operation: flaky'] });
    expect(record.timeline.find((e) => e.type === 'retry')?.message).toBe('setup › provision: infrastructure error, retrying (1/2): the API server is not ready yet (connection refused)');
  });

  it('tells infrastructure errors from the rest', () => {
    expect(isInfrastructureError(new ClusterError('x'))).toBe(true);
    expect(isInfrastructureError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isInfrastructureError(Object.assign(new Error('x'), { code: 503 }))).toBe(true);
    expect(isInfrastructureError(Object.assign(new Error('x'), { code: 422 }))).toBe(false);
    expect(isInfrastructureError(new Error('a stage step needs the game day\'s rollout plan'))).toBe(false);
  });
});
