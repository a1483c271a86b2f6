import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ClusterError, ConfigError } from '../../core/index.js';
import type { LoadPlan } from '../types.js';
import { k6Binary } from './binary.js';
import { k6JobManifests } from './job.js';
import { resultFromSummary } from './runner.js';
import { K6Runner } from './runner.js';
import { k6Script } from './script.js';
import { parseK6Summary } from './summary.js';

const run = promisify(execFile);
const FIXTURES = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'k6');

const PLAN: LoadPlan = {
  name: 'shop-baseline',
  targets: [
    { service: 'ingress/gateway', url: 'http://gateway.ingress.svc.cluster.local:8080/', rps: 400 },
    { service: 'legacy/batch', url: 'http://batch.legacy.svc.cluster.local:8080/', rps: 20 },
  ],
  durationMs: 60_000,
  rampUpMs: 0,
  warmUpMs: 10_000,
  thresholds: [
    { metric: 'http_req_failed', expression: 'rate<=0.001', service: 'ingress/gateway', from: 'frontend-availability' },
    { metric: 'http_req_duration', expression: 'p(99)<=250', from: 'latency' },
  ],
  extensions: [],
  k6Version: 'v1.3.0',
};

/** Writes an executable script into a fresh directory and returns a PATH that finds it first. */
async function fakeTools(tools: Record<string, string>): Promise<{ dir: string; env: NodeJS.ProcessEnv }> {
  const dir = await mkdtemp(join(tmpdir(), 'meshdrill-fake-'));
  for (const [name, body] of Object.entries(tools)) {
    await writeFile(join(dir, name), `#!/bin/sh\n${body}\n`);
    await chmod(join(dir, name), 0o755);
  }
  return { dir, env: { PATH: `${dir}:/usr/bin:/bin`, HOME: dir } };
}

describe('load/k6', () => {
  it('generates a script with per-target scenarios, a warm-up phase and SLO thresholds', async () => {
    const script = k6Script(PLAN);

    await expect(script).toMatchFileSnapshot('__snapshots__/shop-baseline.k6.js');
    expect(script).toContain('"http_req_failed{phase:main,service:ingress/gateway}": [\n      "rate<=0.001"\n    ]');
    expect(script).toContain('"startTime": "10s"');
  });

  it('generates a script that parses as a JavaScript module', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-k6-script-'));
    await writeFile(join(dir, 'script.mjs'), k6Script({ ...PLAN, rampUpMs: 20_000 }));

    const checked = await run(process.execPath, ['--check', join(dir, 'script.mjs')]);

    expect(checked.stderr).toBe('');
  });

  it('generates a script that type-checks against k6\'s own API types (@types/k6)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-k6-types-'));
    await writeFile(join(dir, 'script.js'), k6Script({ ...PLAN, rampUpMs: 20_000 }));
    const root = join(import.meta.dirname, '..', '..');
    // k6's globals (__ENV) and modules (k6, k6/http, k6/metrics), nothing of Node.
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { allowJs: true, checkJs: true, noEmit: true, strict: true, module: 'es2022', moduleResolution: 'bundler', target: 'es2022', lib: ['es2022'], types: ['k6'], typeRoots: [join(root, 'node_modules', '@types')] }, files: ['script.js'] }));

    const checked = await run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json')]).then((r) => r.stdout, (e: { stdout: string }) => e.stdout);

    expect(checked).toBe('');
  });

  it('counts the requests that got no response, and calls a warm-up full of them a broken environment', () => {
    const summary = (warmResets: number) => ({
      metrics: { 'http_reqs{phase:main}': { count: 1000 }, 'http_req_failed{phase:main}': { rate: 0.2 }, 'meshdrill_connection_errors{phase:main}': { count: 150 }, 'http_reqs{phase:warmup}': { count: 100 }, 'meshdrill_connection_errors{phase:warmup}': { count: warmResets } },
      thresholds: [],
    });

    const broken = resultFromSummary(PLAN, summary(40), { from: 0, to: 1 }, false);
    const fine = resultFromSummary(PLAN, summary(2), { from: 0, to: 1 }, false);

    expect(broken.connectionErrors).toBe(150);
    expect(broken.infrastructureProblem).toBe('40.0% of warm-up requests got no response (connection errors); the environment is broken, not slow');
    expect(fine.infrastructureProblem).toBeUndefined();
  });

  it.each(['handle-summary.json', 'summary-export.json'])('reads %s: main-phase values and threshold verdicts (export: true means failed)', async (file) => {
    const summary = parseK6Summary(await readFile(join(FIXTURES, file), 'utf8'), file);

    expect(summary.metrics['http_reqs{phase:main}']?.['count']).toBe(12000);
    expect(summary.metrics['http_req_failed{phase:main}']?.['rate']).toBe(0.0106);
    expect(summary.metrics['http_req_duration{phase:main}']?.['p(99)']).toBe(138.2);
    expect(summary.thresholds.filter((t) => !t.ok)).toEqual([{ metric: 'http_req_failed{phase:main,service:ingress/gateway}', expression: 'rate<=0.001', ok: false }]);
  });

  it('refuses a summary that is not one', () => {
    expect(() => parseK6Summary('{"nope": 1}', 'out.json')).toThrow(new ConfigError('out.json: no "metrics" object; expected k6 handleSummary data or a --summary-export file'));
    expect(() => parseK6Summary('not json', 'out.json')).toThrow(/^out\.json: not JSON/);
  });

  // The recorded summary has a failed threshold: whatever k6's exit code, it counts.
  it.each([
    [0, true],
    [99, true],
  ])('maps k6 exit %i to a result (thresholds failed: %s), not an infrastructure error', async (exit, failed) => {
    const summary = join(FIXTURES, 'handle-summary.json');
    const { dir, env } = await fakeTools({ k6: `echo "$@" > "$(dirname "$0")/args"\ncp '${summary}' "$MESHDRILL_SUMMARY"\nexit ${exit}` });

    const result = await new K6Runner({ cacheDir: join(dir, 'cache'), env }).run(PLAN);

    expect(result).toMatchObject({ runner: 'k6', requests: 12000, failed: 127, thresholdsFailed: failed, latency: { p50: 14.1, p95: 53.8, p99: 138.2 } });
    expect(result.thresholds.map((t) => [t.expression, t.passed])).toEqual([
      ['rate<=0.001', false],
      ['p(99)<=250', true],
    ]);
    expect((await readFile(join(dir, 'args'), 'utf8')).trim()).toMatch(/^run --quiet .*script\.js$/);
  });

  it('reports any other k6 exit as an infrastructure error with k6\'s reason', async () => {
    const { dir, env } = await fakeTools({ k6: 'echo "ReferenceError: foo is not defined" >&2\nexit 107' });

    await expect(new K6Runner({ cacheDir: join(dir, 'cache'), env }).run(PLAN)).rejects.toThrow(new ClusterError('k6 failed: script exception: ReferenceError: foo is not defined'));
  });

  it('says how to get k6 when it is missing', async () => {
    const { dir, env } = await fakeTools({});

    await expect(k6Binary({ extensions: [], k6Version: 'v1.3.0', cacheDir: dir, env })).rejects.toThrow(/^k6 is not on PATH; install it/);
  });

  it('builds a k6 with extensions once through xk6, cached by version and extensions', async () => {
    const { dir, env } = await fakeTools({
      go: 'exit 0',
      xk6: `echo "$@" >> "$(dirname "$0")/builds"\nwhile [ $# -gt 0 ]; do if [ "$1" = "--output" ]; then printf '#!/bin/sh\\n' > "$2"; chmod +x "$2"; fi; shift; done`,
    });
    const options = { extensions: ['github.com/grafana/xk6-disruptor@v0.3.11'], k6Version: 'v1.3.0', cacheDir: join(dir, 'cache'), env };

    const first = await k6Binary(options);
    const second = await k6Binary(options);

    expect(first.built).toBe(true);
    expect(second).toEqual({ path: first.path, built: false });
    expect((await readFile(join(dir, 'builds'), 'utf8')).trim().split('\n')).toEqual([`build v1.3.0 --with github.com/grafana/xk6-disruptor@v0.3.11 --output ${first.path}`]);
  });

  it('says how to get Go and xk6 when a plan needs extensions', async () => {
    const { dir, env } = await fakeTools({});

    await expect(k6Binary({ extensions: ['github.com/grafana/xk6-disruptor'], k6Version: 'v1.3.0', cacheDir: dir, env })).rejects.toThrow(
      'go is not on PATH, and the load plan needs a k6 with extensions (github.com/grafana/xk6-disruptor). Install Go (https://go.dev/doc/install), then xk6: go install go.k6.io/xk6/cmd/xk6@latest',
    );
  });

  it('runs in-cluster as a Job, outside the mesh unless asked', () => {
    const [configMap, job] = k6JobManifests(PLAN, { namespace: 'load', meshed: false, runId: 'r1' });

    expect(configMap?.['data']).toEqual({ 'script.js': k6Script(PLAN) });
    expect(job).toMatchObject({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'meshdrill-load-shop-baseline', labels: { 'meshdrill.dev/run-id': 'r1' } },
      spec: { backoffLimit: 0, template: { metadata: { labels: { 'sidecar.istio.io/inject': 'false' } }, spec: { restartPolicy: 'Never' } } },
    });
  });
});
