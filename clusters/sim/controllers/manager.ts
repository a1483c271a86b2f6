import type { Clock, TimerHandle } from '../../../core/index.js';
import type { Random } from '../random.js';
import type { ApiService } from '../api/service.js';
import type { KubeObject, StoreEvent } from '../api/types.js';
import { controllerOf, type ControllerContext, type Obj, type ReadinessCheck } from './context.js';
import { reconcileDaemonSet } from './daemonset.js';
import { reconcileDeployment } from './deployment.js';
import { reconcileEndpoints } from './endpoints.js';
import { reconcileJob } from './job.js';
import { setNodeReady } from './nodes.js';
import { PodLifecycle } from './pods.js';
import { reconcileReplicaSet } from './replicaset.js';
import { reconcileStatefulSet } from './statefulset.js';

export interface ControllerOptions {
  podStartDelayMs: number;
  evictionDelayMs: number;
  /** How long a Terminating namespace waits before its contents are removed. Default 1 s. */
  namespaceDelayMs?: number;
}

const MAX_ROUNDS = 100_000;

/**
 * Runs the controllers. Store changes enqueue work keyed by controller and object; `drain`
 * processes the queue until nothing is left, synchronously, so that in virtual time every
 * consequence of a change is settled before the clock moves on.
 */
/** kube-controller-manager's --node-monitor-grace-period (Kubernetes ≥ 1.32). */
export const NODE_MONITOR_GRACE_MS = 50_000;

export class ControllerManager {
  private readonly queue = new Map<string, Set<string>>();
  private draining = false;
  private scheduled = false;
  readonly pods: PodLifecycle;
  readonly ctx: ControllerContext;
  private readonly unsubscribe: () => void;
  private readonly extra = new Map<string, { reconcile: (key: string) => void; watch: (event: StoreEvent) => string[] }>();

  private readonly namespaceDelayMs: number;

  constructor(api: ApiService, clock: Clock, random: Random, options: ControllerOptions) {
    this.namespaceDelayMs = options.namespaceDelayMs ?? 1_000;
    const readiness: ReadinessCheck[] = [];
    this.ctx = {
      api,
      clock,
      random,
      readiness,
      podStartDelayMs: options.podStartDelayMs,
      evictionDelayMs: options.evictionDelayMs,
      enqueue: (controller, key) => this.enqueue(controller, key),
      type: (kind) => {
        const type = api.types.builtinKind(kind);
        if (!type) throw new Error(`no built-in type ${kind}`);
        return type;
      },
    };
    this.pods = new PodLifecycle(this.ctx);
    this.unsubscribe = api.store.subscribe((event) => this.onEvent(event));
  }

  /**
   * Adds a controller (the mesh twin is one): `watch` maps each store change to the keys it must
   * reconcile; `reconcile` runs inside the same drain as the built-in controllers.
   */
  addController(name: string, reconcile: (key: string) => void, watch: (event: StoreEvent) => string[]): void {
    this.extra.set(name, { reconcile, watch });
  }

  addReadinessCheck(check: ReadinessCheck): void {
    this.ctx.readiness.push(check);
    this.pods.recheckAll();
  }

  setNodeReady(name: string, ready: boolean): void {
    setNodeReady(this.ctx, name, ready);
    this.drain();
  }

  /** Nodes that have stopped: their pods neither run nor answer, whatever the API says yet. */
  readonly downNodes = new Set<string>();
  private readonly noticing = new Map<string, TimerHandle>();

  /**
   * A node stops (power, network, its whole zone or region): its pods stop answering at once, but
   * the API learns only when the node lifecycle controller marks it NotReady, once it has posted no
   * status for the node-monitor grace period (kube-controller-manager --node-monitor-grace-period,
   * 50 s since Kubernetes 1.32, 40 s before: kubernetes/kubernetes#121793, #127352). Until then its
   * pods stay Ready and in their Services' endpoints.
   */
  stopNode(name: string): void {
    if (this.downNodes.has(name)) return;
    this.downNodes.add(name);
    this.noticing.set(name, this.ctx.clock.setTimer(NODE_MONITOR_GRACE_MS, () => {
      this.noticing.delete(name);
      this.setNodeReady(name, false);
    }));
  }

  /** The node is back: its kubelet posts Ready at once. */
  startNode(name: string): void {
    this.noticing.get(name)?.cancel();
    this.noticing.delete(name);
    const wasDown = this.downNodes.delete(name);
    if (wasDown) this.setNodeReady(name, true);
  }

  stop(): void {
    this.unsubscribe();
  }

  enqueue(controller: string, key: string): void {
    let keys = this.queue.get(controller);
    if (!keys) {
      keys = new Set();
      this.queue.set(controller, keys);
    }
    keys.add(key);
    if (!this.draining && !this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => {
        this.scheduled = false;
        this.drain();
      });
    }
  }

  /** Processes queued work until the cluster is quiescent. */
  drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const next = this.take();
        if (!next) return;
        const [controller, key] = next;
        const [namespace, name] = key.includes('/') ? (key.split('/') as [string, string]) : ['', key];
        this.run(controller, namespace, name);
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * Built-in controllers first; added controllers (the mesh twin, which looks at the whole
   * cluster) only once those are quiet, so a burst of changes costs them one pass, not one per change.
   */
  private take(): [string, string] | undefined {
    for (const lowPriority of [false, true]) {
      for (const [controller, keys] of this.queue) {
        if (this.extra.has(controller) !== lowPriority) continue;
        const first = keys.values().next();
        if (first.done) {
          this.queue.delete(controller);
          continue;
        }
        keys.delete(first.value);
        return [controller, first.value];
      }
    }
    return undefined;
  }

  private run(controller: string, namespace: string, name: string): void {
    const ctx = this.ctx;
    try {
      if (controller === 'deployments') reconcileDeployment(ctx, namespace, name);
      else if (controller === 'replicasets') reconcileReplicaSet(ctx, namespace, name);
      else if (controller === 'statefulsets') reconcileStatefulSet(ctx, namespace, name);
      else if (controller === 'daemonsets') reconcileDaemonSet(ctx, namespace, name);
      else if (controller === 'jobs') reconcileJob(ctx, namespace, name);
      else if (controller === 'endpoints') reconcileEndpoints(ctx, namespace, name);
      else if (controller === 'pods') this.pods.reconcile(namespace, name);
      else if (controller === 'namespaces') this.namespace(name);
      else this.extra.get(controller)?.reconcile(namespace === '' ? name : `${namespace}/${name}`);
    } catch (error) {
      // A controller that fails retries on the next change, as real controllers requeue.
      if (process.env['MESHDRILL_SIM_DEBUG']) console.error(`controller ${controller} ${namespace}/${name}:`, error);
    }
  }

  private onEvent(event: StoreEvent): void {
    for (const [name, controller] of this.extra) for (const key of controller.watch(event)) this.enqueue(name, key);
    const o = event.object;
    const key = `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    switch (event.key) {
      case 'apps/deployments':
        return this.enqueue('deployments', key);
      case 'apps/replicasets':
        this.enqueue('replicasets', key);
        return this.enqueueOwner(o, 'Deployment', 'deployments');
      case 'apps/statefulsets':
        return this.enqueue('statefulsets', key);
      case 'apps/daemonsets':
        return this.enqueue('daemonsets', key);
      case 'batch/jobs':
        return this.enqueue('jobs', key);
      case 'pods':
        this.pods.observe(event);
        this.enqueue('pods', key);
        this.enqueueOwner(o, 'ReplicaSet', 'replicasets');
        this.enqueueOwner(o, 'StatefulSet', 'statefulsets');
        this.enqueueOwner(o, 'DaemonSet', 'daemonsets');
        this.enqueueOwner(o, 'Job', 'jobs');
        return this.enqueueServices(o);
      case 'services':
        return this.enqueue('endpoints', key);
      case 'namespaces':
        if (event.type === 'ADDED' || o.metadata['deletionTimestamp']) this.enqueue('namespaces', o.metadata.name);
        return;
      case 'nodes':
        for (const ds of this.ctx.api.list(this.ctx.type('DaemonSet'))) this.enqueue('daemonsets', `${ds.metadata.namespace}/${ds.metadata.name}`);
        for (const pod of this.ctx.api.list(this.ctx.type('Pod'))) if ((pod.spec as Obj)['nodeName'] === o.metadata.name || !(pod.spec as Obj)['nodeName']) this.enqueue('pods', `${pod.metadata.namespace}/${pod.metadata.name}`);
        return;
      default:
        return;
    }
  }

  private enqueueOwner(object: KubeObject, kind: string, controller: string): void {
    const owner = controllerOf(object);
    if (owner?.kind === kind) this.enqueue(controller, `${object.metadata.namespace}/${owner.name}`);
  }

  private enqueueServices(pod: KubeObject): void {
    for (const service of this.ctx.api.list(this.ctx.type('Service'), pod.metadata.namespace)) {
      const selector = (service.spec as Obj | undefined)?.['selector'] as Record<string, string> | undefined;
      if (selector && Object.entries(selector).every(([k, v]) => pod.metadata.labels?.[k] === v)) {
        this.enqueue('endpoints', `${service.metadata.namespace}/${service.metadata.name}`);
      }
    }
  }

  /**
   * A new namespace gets its default ServiceAccount; a Terminating one is emptied and removed after
   * a moment (the real namespace controller takes a few seconds), so clients that delete a
   * namespace and then its objects, as `kubectl delete -f` does, find them still there.
   */
  private namespace(name: string): void {
    const found = this.ctx.api.find(this.ctx.type('Namespace'), undefined, name);
    if (!found?.metadata['deletionTimestamp']) return this.ensureDefaultServiceAccount(name);
    if (this.finalizing.has(name)) return;
    this.finalizing.add(name);
    this.ctx.clock.setTimer(this.namespaceDelayMs, () => {
      this.finalizing.delete(name);
      this.ctx.api.finalizeNamespace(name);
      this.drain();
    });
  }

  private readonly finalizing = new Set<string>();

  private ensureDefaultServiceAccount(namespace: string): void {
    const type = this.ctx.type('ServiceAccount');
    if (!this.ctx.api.find(this.ctx.type('Namespace'), undefined, namespace)) return;
    if (!this.ctx.api.find(type, namespace, 'default')) this.ctx.api.create(type, namespace, { metadata: { name: 'default', namespace } });
  }
}
