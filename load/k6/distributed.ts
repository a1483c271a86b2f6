import type { KubeObject } from '../../clusters/index.js';
import { ConfigError } from '../../core/index.js';
import type { LoadPlan } from '../types.js';
import { k6ScriptConfigMap, vusFor } from './script.js';

/** What one k6 runner pod is trusted to drive (a pod of 1 CPU, k6's own sizing guidance). */
export interface RunnerLimits {
  maxRpsPerRunner: number;
  maxVusPerRunner: number;
  maxRunners: number;
}

export const DEFAULT_RUNNER_LIMITS: RunnerLimits = { maxRpsPerRunner: 1_000, maxVusPerRunner: 1_000, maxRunners: 50 };

/**
 * How many runners a plan needs: enough that none drives more than its share of requests per
 * second or of virtual users. k6 splits each arrival-rate scenario across runners by execution
 * segment (k6-operator gives runner i of N the segment i/N:(i+1)/N), so each drives 1/N of every
 * rate and of every VU pool.
 */
export function runnersFor(plan: LoadPlan, limits: RunnerLimits = DEFAULT_RUNNER_LIMITS): { parallelism: number; why: string } {
  const rps = plan.targets.reduce((n, t) => n + t.rps, 0);
  const vus = plan.targets.reduce((n, t) => n + vusFor(t.rps).max, 0);
  const byRate = Math.ceil(rps / limits.maxRpsPerRunner);
  const byVus = Math.ceil(vus / limits.maxVusPerRunner);
  const parallelism = Math.max(1, byRate, byVus);
  if (parallelism > limits.maxRunners) throw new ConfigError(`load plan "${plan.name}" needs ${parallelism} k6 runners (${rps} rps, up to ${vus} VUs) but at most ${limits.maxRunners} are allowed; lower the rate or raise the limit`);
  const why = parallelism === 1 ? `${rps} rps and up to ${vus} VUs fit one runner` : byRate >= byVus ? `${rps} rps at most ${limits.maxRpsPerRunner} per runner` : `up to ${vus} VUs at most ${limits.maxVusPerRunner} per runner`;
  return { parallelism, why };
}

/** Each runner's execution segment, as k6 writes them ("0:1/4", "1/4:2/4", …). */
export function executionSegments(parallelism: number): string[] {
  const at = (i: number) => (i === 0 ? '0' : i === parallelism ? '1' : `${i}/${parallelism}`);
  return Array.from({ length: parallelism }, (_, i) => `${at(i)}:${at(i + 1)}`);
}

/** The requests per second each runner drives per target: the plan's rates split by segment. */
export function ratesPerRunner(plan: LoadPlan, parallelism: number): number[][] {
  return executionSegments(parallelism).map((segment) => {
    const [from, to] = segment.split(':').map((s) => (s.includes('/') ? Number(s.split('/')[0]) / Number(s.split('/')[1]) : Number(s))) as [number, number];
    return plan.targets.map((t) => t.rps * (to - from));
  });
}

/** k6's Prometheus remote-write output (k6 ≥ 0.42, `--out experimental-prometheus-rw`). */
export interface RemoteWrite {
  /** The receiver, e.g. http://prometheus.monitoring:9090/api/v1/write (Prometheus needs --web.enable-remote-write-receiver). */
  url: string;
}

/**
 * The environment that makes k6 remote-write its metrics: trends as native histograms, so
 * percentiles merge across runners in PromQL (Prometheus needs --enable-feature=native-histograms),
 * pushed every 5 s. Series carry the script's tags (phase, service) and the run's testid.
 */
export function remoteWriteEnv(remoteWrite: RemoteWrite): Array<{ name: string; value: string }> {
  return [
    { name: 'K6_PROMETHEUS_RW_SERVER_URL', value: remoteWrite.url },
    { name: 'K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM', value: 'true' },
    { name: 'K6_PROMETHEUS_RW_PUSH_INTERVAL', value: '5s' },
  ];
}

export interface TestRunOptions {
  namespace: string;
  parallelism: number;
  /** Labels every series with testid=<runId> and names the objects. */
  runId: string;
  meshed: boolean;
  image?: string;
  remoteWrite?: RemoteWrite;
}

/**
 * The plan as a k6-operator TestRun (k6.io/v1alpha1): the script in a ConfigMap, N runners, each
 * outside (or inside) the mesh as the plan asks, remote-writing to Prometheus when given; the
 * operator deletes its jobs after the run (cleanup: post) only when the results are in Prometheus.
 */
export function k6TestRunManifests(plan: LoadPlan, options: TestRunOptions): KubeObject[] {
  const { name, labels, configMap } = k6ScriptConfigMap(plan, options.namespace, options.runId);
  const args = ['--quiet', `--tag testid=${options.runId}`, ...(options.remoteWrite ? ['--out experimental-prometheus-rw'] : [])];
  return [
    configMap,
    {
      apiVersion: 'k6.io/v1alpha1',
      kind: 'TestRun',
      metadata: { name, namespace: options.namespace, labels },
      spec: {
        parallelism: options.parallelism,
        script: { configMap: { name, file: 'script.js' } },
        arguments: args.join(' '),
        separate: false,
        ...(options.remoteWrite ? { cleanup: 'post' } : {}),
        runner: {
          image: options.image ?? `grafana/k6:${plan.k6Version.replace(/^v/, '')}`,
          metadata: { labels: { ...labels, ...(options.meshed ? {} : { 'sidecar.istio.io/inject': 'false' }) }, annotations: { 'linkerd.io/inject': options.meshed ? 'enabled' : 'disabled' } },
          env: [{ name: 'MESHDRILL_SUMMARY', value: '/dev/stdout' }, ...(options.remoteWrite ? remoteWriteEnv(options.remoteWrite) : [])],
        },
      },
    },
  ];
}
