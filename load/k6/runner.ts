import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterError } from '../../core/index.js';
import { INFRASTRUCTURE_ERROR_SHARE, type LoadPlan, type LoadResult, type LoadRunner } from '../types.js';
import { k6Binary } from './binary.js';
import { K6_THRESHOLDS_FAILED, k6ExitMeaning } from './exit-codes.js';
import { k6Script } from './script.js';
import { parseK6Summary, type K6Summary } from './summary.js';

export interface K6RunnerOptions {
  cacheDir: string;
  env?: NodeJS.ProcessEnv;
  now?: () => number;
  /** Where the script and summary go; a temporary directory by default. */
  workDir?: string;
}

/**
 * Runs a plan with a local k6. Exit 0 and exit 99 (thresholds failed) both yield a result — a
 * failed threshold is a gate failure, not an infrastructure error; any other exit is a
 * ClusterError naming k6's reason.
 */
export class K6Runner implements LoadRunner {
  readonly name = 'k6';

  constructor(private readonly options: K6RunnerOptions) {}

  async run(plan: LoadPlan): Promise<LoadResult> {
    const env = { ...(this.options.env ?? process.env) };
    const { path } = await k6Binary({ extensions: plan.extensions, k6Version: plan.k6Version, cacheDir: this.options.cacheDir, env });
    const dir = this.options.workDir ?? (await mkdtemp(join(tmpdir(), 'meshdrill-k6-')));
    const script = join(dir, 'script.js');
    const summaryPath = join(dir, 'summary.json');
    await writeFile(script, k6Script(plan));
    const now = this.options.now ?? Date.now;
    const started = now();
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(path, ['run', '--quiet', script], { env: { ...env, MESHDRILL_SUMMARY: summaryPath }, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (chunk: Buffer) => (err = (err + chunk.toString()).slice(-4000)));
      child.on('error', reject);
      child.on('close', (exit) => resolve({ code: exit, stderr: err }));
    });
    if (code !== 0 && code !== K6_THRESHOLDS_FAILED) {
      throw new ClusterError(`k6 failed: ${k6ExitMeaning(code)}${stderr.trim() ? `: ${stderr.trim().split('\n').at(-1)}` : ''}`);
    }
    const summary = parseK6Summary(await readFile(summaryPath, 'utf8'), summaryPath);
    return resultFromSummary(plan, summary, { from: started + plan.warmUpMs, to: now() }, code === K6_THRESHOLDS_FAILED);
  }
}

/** Maps a k6 summary to a load result: main-phase sub-metrics, thresholds matched back to the plan. */
export function resultFromSummary(plan: LoadPlan, summary: K6Summary, window: { from: number; to: number }, exitSaysFailed: boolean): LoadResult {
  const main = (metric: string) => summary.metrics[`${metric}{phase:main}`] ?? summary.metrics[metric] ?? {};
  const requests = main('http_reqs')['count'] ?? 0;
  const failedRate = main('http_req_failed')['rate'] ?? 0;
  const duration = main('http_req_duration');
  const thresholds = plan.thresholds.map((t) => {
    const key = `${t.metric}{phase:main${t.service ? `,service:${t.service}` : ''}}`;
    const found = summary.thresholds.find((s) => s.metric === key && s.expression === t.expression);
    return { ...t, passed: found?.ok ?? false };
  });
  const failed = Math.round(requests * failedRate);
  // The script counts responses with status 0 (no response at all) per phase.
  const connectionErrors = main('meshdrill_connection_errors')['count'] ?? 0;
  const warmRequests = summary.metrics['http_reqs{phase:warmup}']?.['count'] ?? 0;
  const warmResets = summary.metrics['meshdrill_connection_errors{phase:warmup}']?.['count'] ?? 0;
  const broken = warmRequests > 0 && warmResets / warmRequests > INFRASTRUCTURE_ERROR_SHARE;
  return {
    runner: 'k6',
    requests,
    failed,
    connectionErrors,
    ...(broken ? { infrastructureProblem: `${((100 * warmResets) / warmRequests).toFixed(1)}% of warm-up requests got no response (connection errors); the environment is broken, not slow` } : {}),
    successRate: requests > 0 ? 100 * (1 - failedRate) : Number.NaN,
    latency: { p50: duration['med'] ?? Number.NaN, p95: duration['p(95)'] ?? Number.NaN, p99: duration['p(99)'] ?? Number.NaN },
    thresholds,
    thresholdsFailed: exitSaysFailed || thresholds.some((t) => !t.passed),
    window,
  };
}
