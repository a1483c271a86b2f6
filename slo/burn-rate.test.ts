import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { captureIO, runCli } from '../test/helpers/cli.js';

// `meshdrill slo rules` checked by Prometheus's own tool: promtool accepts the rule file, and its
// unit tests fire the page alert on a 2% error ratio against a 99.9% SLO (20× the budget) and
// nothing on 0.05%. The series are what Istio's sidecars report (istio_requests_total).
const promtool = spawnSync('promtool', ['--version']).status === 0;
const SHOP = join(import.meta.dirname, '..', 'examples', 'shop');

async function rules(...args: string[]): Promise<{ file: string; err: string; code: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'meshdrill-slo-rules-'));
  const file = join(dir, 'rules.yaml');
  const io = captureIO(dir);
  const code = await runCli(['slo', 'rules', SHOP, '--out', file, ...args], io);
  return { file, err: io.err.join(''), code };
}

const series = (errorsPerMinute: number) => [
  { series: 'istio_requests_total{reporter="destination",destination_workload_namespace="frontend",response_code="200"}', values: `0+${10_000 - errorsPerMinute}x120` },
  { series: 'istio_requests_total{reporter="destination",destination_workload_namespace="frontend",response_code="503"}', values: `0+${errorsPerMinute}x120` },
];

describe.skipIf(!promtool)('meshdrill slo rules, through promtool', () => {
  it('writes rules promtool accepts, and names the SLOs it cannot alert on', async () => {
    const { file, err, code } = await rules();
    const check = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });

    expect(code).toBe(0);
    expect(check.status, check.stderr + check.stdout).toBe(0);
    expect(check.stdout).toContain('SUCCESS: 36 rules found');
    expect(err).toContain('no burn-rate rules for SLO payments-plaintext: plaintext-share is not a ratio of good to all requests');
    expect(err).toContain('no burn-rate rules for SLO batch-to-payments: it is measured from the callers\' own view');
  });

  it('pages on a fast burn and stays quiet on a slow one (promtool test rules)', async () => {
    const { file } = await rules();
    const dir = join(file, '..');
    const labels = (window: string, severity: string) => ({ slo: 'frontend-availability', sli: 'success-rate', severity, window });
    const test = {
      rule_files: [file],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: series(200),
          alert_rule_test: [
            {
              eval_time: '70m',
              alertname: 'SLOBurnRatePage',
              exp_alerts: [
                { exp_labels: labels('1h', 'page'), exp_annotations: { summary: 'SLO frontend-availability is burning its error budget 14.4× too fast', description: 'Over the last 1h (and 5m) the error ratio of frontend-availability (>= 99.9%) is above 14.4 × 0.001: at this rate the 30-day budget lasts 2.1 days.' } },
                { exp_labels: labels('6h', 'page'), exp_annotations: { summary: 'SLO frontend-availability is burning its error budget 6× too fast', description: 'Over the last 6h (and 30m) the error ratio of frontend-availability (>= 99.9%) is above 6 × 0.001: at this rate the 30-day budget lasts 5 days.' } },
              ],
            },
          ],
        },
        {
          interval: '1m',
          input_series: series(5),
          alert_rule_test: [
            { eval_time: '70m', alertname: 'SLOBurnRatePage', exp_alerts: [] },
            { eval_time: '70m', alertname: 'SLOBurnRateTicket', exp_alerts: [] },
          ],
        },
      ],
    };
    await writeFile(join(dir, 'test.yaml'), JSON.stringify(test));

    const result = spawnSync('promtool', ['test', 'rules', join(dir, 'test.yaml')], { encoding: 'utf8' });

    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('SUCCESS');
  });

  it('writes the same rules as a PrometheusRule for the prometheus-operator', async () => {
    const { file } = await rules('--format', 'prometheusrule', '--namespace', 'observability');
    const object = parse(await import('node:fs/promises').then((fs) => fs.readFile(file, 'utf8'))) as { apiVersion: string; kind: string; metadata: { namespace: string }; spec: { groups: Array<{ name: string }> } };

    expect(object).toMatchObject({ apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', metadata: { namespace: 'observability' } });
    expect(object.spec.groups.map((g) => g.name)).toEqual(['meshdrill-slo-frontend-availability', 'meshdrill-slo-checkout-availability', 'meshdrill-slo-payments-latency']);
  });
});
