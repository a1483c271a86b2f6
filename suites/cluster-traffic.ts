import type { KubeClient, KubeObject } from '../clusters/index.js';
import type { Logger } from '../core/index.js';
import { k6JobManifests, k6TestRunManifests, planLoad, runnersFor, type RemoteWrite, type RunnerLimits } from '../load/index.js';
import type { Topology } from '../model/index.js';

export const TRAFFIC_NAMESPACE = 'meshdrill-load';
/** Traffic on a real cluster lives at most this long, so a killed run's load stops by itself. */
export const TRAFFIC_DEADLINE_SECONDS = 6 * 3600;

/**
 * The topology's traffic on a real cluster: k6 in its own namespace outside the mesh (as traffic
 * from outside arrives), one arrival-rate scenario per entrypoint at its declared rate, running
 * until stopped. With the k6-operator installed (its TestRun kind is served), a TestRun of as many
 * runners as the rate needs (k6 splits each rate across them); without it, one Job. With
 * `remoteWrite`, k6's own metrics go to Prometheus as they happen: the callers' view as time
 * series. A new rate replaces the load; the fake-service workloads carry each request down the call
 * graph through the real proxies.
 */
export class InClusterTraffic {
  private applied: KubeObject[] = [];
  private topology: Topology | undefined;
  private createdNamespace = false;

  constructor(
    private readonly kube: KubeClient,
    /** `wait` lets the cluster's time pass while its namespace terminates (default: real time). */
    private readonly options: { runId: string; logger: Pick<Logger, 'info'>; namespace?: string; image?: string; wait?: (ms: number) => Promise<void>; remoteWrite?: RemoteWrite; runnerLimits?: RunnerLimits },
  ) {}

  private get namespace(): string {
    return this.options.namespace ?? TRAFFIC_NAMESPACE;
  }

  async start(topology: Topology): Promise<void> {
    this.topology = topology;
    await this.run(undefined);
  }

  /** Total requests per second across the entrypoints, spread as declared; undefined: the declared rates. */
  async setRate(totalRps: number | undefined): Promise<void> {
    if (!this.topology) return;
    await this.run(totalRps);
  }

  /** Takes the traffic away: its objects, and its namespace once that has finished terminating. */
  async stop(): Promise<void> {
    await this.remove();
    if (this.createdNamespace) {
      await this.kube.delete('v1', 'Namespace', undefined, this.namespace);
      const wait = this.options.wait ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
      for (let waited = 0; waited < 60_000 && (await this.kube.get('v1', 'Namespace', undefined, this.namespace)); waited += 250) await wait(250);
    }
    this.createdNamespace = false;
    this.topology = undefined;
  }

  private async run(totalRps: number | undefined): Promise<void> {
    await this.remove();
    if (!(await this.kube.get('v1', 'Namespace', undefined, this.namespace))) {
      await this.kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: this.namespace, labels: { 'meshdrill.dev/run-id': this.options.runId } } });
      this.createdNamespace = true;
    }
    const plan = planLoad('traffic', { duration: `${TRAFFIC_DEADLINE_SECONDS}s`, warmUp: '0s', ...(totalRps !== undefined ? { rps: totalRps } : {}) }, this.topology!);
    const image = this.options.image ? { image: this.options.image } : {};
    let how = 'k6';
    let manifests: KubeObject[];
    if (await this.operatorPresent()) {
      const { parallelism, why } = runnersFor(plan, this.options.runnerLimits);
      manifests = k6TestRunManifests(plan, { namespace: this.namespace, parallelism, meshed: false, runId: this.options.runId, ...image, ...(this.options.remoteWrite ? { remoteWrite: this.options.remoteWrite } : {}) });
      how = `a k6-operator TestRun of ${parallelism} runner${parallelism === 1 ? '' : 's'} (${why})`;
    } else {
      manifests = k6JobManifests(plan, { namespace: this.namespace, meshed: false, runId: this.options.runId, activeDeadlineSeconds: TRAFFIC_DEADLINE_SECONDS, ...image, ...(this.options.remoteWrite ? { remoteWrite: this.options.remoteWrite } : {}) });
    }
    for (const object of manifests) await this.kube.apply(object);
    this.applied = manifests;
    this.options.logger.info({ rps: plan.targets.reduce((n, t) => n + t.rps, 0) }, `traffic: ${how} in ${this.namespace} at ${plan.targets.map((t) => `${t.rps} rps into ${t.service}`).join(', ')}`);
  }

  /** Whether the k6-operator is installed: its TestRun kind is served (a 404 means no). */
  private async operatorPresent(): Promise<boolean> {
    return this.kube.list('k6.io/v1alpha1', 'TestRun', { namespace: this.namespace }).then(
      () => true,
      (error: Error) => (/404|not found|no matches/i.test(error.message) ? false : Promise.reject(error)),
    );
  }

  private async remove(): Promise<void> {
    // Background propagation takes the Job's pods with it, as `kubectl delete job` does.
    for (const object of [...this.applied].reverse()) await this.kube.delete(object.apiVersion, object.kind, object.metadata.namespace, object.metadata.name);
    this.applied = [];
  }
}
