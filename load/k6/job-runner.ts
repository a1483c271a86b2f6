import type { KubeClient } from '../../clusters/index.js';
import { ClusterError } from '../../core/index.js';
import type { LoadPlan, LoadResult, LoadRunner } from '../types.js';
import { K6_THRESHOLDS_FAILED, k6ExitMeaning } from './exit-codes.js';
import { k6JobManifests } from './job.js';
import { resultFromSummary } from './runner.js';
import { parseK6Summary } from './summary.js';

type Obj = Record<string, unknown>;

export interface K6JobRunnerOptions {
  namespace: string;
  /** Run the load generator inside the mesh (injected) or outside it; it decides what STRICT mTLS does to it. */
  meshed: boolean;
  runId: string;
  image?: string;
  /** Waiting, on the run's clock. */
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  pollMs?: number;
  /** Beyond the plan's own duration. */
  graceMs?: number;
  /** Leave the Job and its ConfigMap in the cluster afterwards. */
  keep?: boolean;
}

/**
 * k6 as an in-cluster Job: apply the script's ConfigMap and the Job, wait for it to finish, read
 * the runner container's exit code (99: thresholds failed — a gate failure) and its output, where
 * handleSummary wrote the summary JSON; then clean up.
 */
export class K6JobRunner implements LoadRunner {
  readonly name = 'k6-job';

  constructor(
    private readonly kube: KubeClient,
    private readonly options: K6JobRunnerOptions,
  ) {}

  async run(plan: LoadPlan): Promise<LoadResult> {
    const manifests = k6JobManifests(plan, { namespace: this.options.namespace, meshed: this.options.meshed, runId: this.options.runId, ...(this.options.image ? { image: this.options.image } : {}) });
    const job = manifests.find((m) => m.kind === 'Job')!;
    const name = job.metadata.name;
    const started = this.options.now();
    for (const object of manifests) await this.kube.apply(object);
    try {
      const pod = await this.waitForFinish(name, plan.warmUpMs + plan.durationMs + (this.options.graceMs ?? 120_000));
      const terminated = (((pod.status as Obj)['containerStatuses'] as Obj[] | undefined) ?? []).find((c) => c['name'] === 'k6')?.['state'] as { terminated?: { exitCode?: number } } | undefined;
      const exitCode = terminated?.terminated?.exitCode ?? null;
      const output = await this.kube.logs(this.options.namespace, pod.metadata.name, 'k6');
      if (exitCode !== 0 && exitCode !== K6_THRESHOLDS_FAILED) {
        throw new ClusterError(`k6 Job ${this.options.namespace}/${name} failed: ${k6ExitMeaning(exitCode)}${output.trim() ? `: ${output.trim().split('\n').at(-1)}` : ''}`);
      }
      const json = output.split('\n').find((line) => line.trimStart().startsWith('{'));
      if (!json) throw new ClusterError(`k6 Job ${this.options.namespace}/${name} printed no summary; its output ends: ${output.trim().split('\n').slice(-2).join(' ')}`);
      return { ...resultFromSummary(plan, parseK6Summary(json, `logs of ${pod.metadata.name}`), { from: started + plan.warmUpMs, to: this.options.now() }, exitCode === K6_THRESHOLDS_FAILED), runner: this.name };
    } finally {
      if (!this.options.keep) for (const object of [...manifests].reverse()) await this.kube.delete(object.apiVersion, object.kind, object.metadata.namespace, object.metadata.name);
    }
  }

  private async waitForFinish(name: string, budgetMs: number): Promise<{ metadata: { name: string }; status?: unknown }> {
    const deadline = this.options.now() + budgetMs;
    for (;;) {
      const job = await this.kube.get('batch/v1', 'Job', this.options.namespace, name);
      const status = (job?.['status'] as Obj | undefined) ?? {};
      if (Number(status['succeeded'] ?? 0) > 0 || Number(status['failed'] ?? 0) > 0) {
        const pods = await this.kube.list('v1', 'Pod', { namespace: this.options.namespace, labelSelector: `job-name=${name}` });
        const finished = pods.find((p) => ['Succeeded', 'Failed'].includes(String(((p['status'] as Obj | undefined) ?? {})['phase'])));
        if (finished) return finished as { metadata: { name: string }; status?: unknown };
      }
      if (this.options.now() > deadline) throw new ClusterError(`k6 Job ${this.options.namespace}/${name} did not finish within ${Math.round(budgetMs / 1000)} s`);
      await this.options.sleep(this.options.pollMs ?? 2_000);
    }
  }
}
