import type { TimerHandle } from '../../../core/index.js';
import type { KubeObject } from '../api/types.js';
import { isoTime, recordEvent, type ControllerContext, type Obj } from './context.js';
import { isNodeReady, schedulableNodes } from './nodes.js';
import { copyJson } from '../api/store.js';

/**
 * The scheduler and the kubelets in one: binds pending pods to the least-loaded Ready node,
 * starts their containers after the start delay, keeps the Ready condition in step with the
 * node and the readiness checks (the mesh twin's veto), and evicts pods from nodes that stay
 * NotReady longer than the eviction delay.
 */
export class PodLifecycle {
  private readonly timers = new Map<string, TimerHandle>();
  private readonly evictions = new Map<string, TimerHandle>();
  private readonly nextIp = new Map<string, number>();
  /** Container output by pod uid: what `kubectl logs` returns. */
  readonly logs = new Map<string, string>();

  constructor(private readonly ctx: ControllerContext) {}

  reconcile(namespace: string, name: string): void {
    const pod = this.ctx.api.find(this.ctx.type('Pod'), namespace, name);
    if (!pod) return this.forget(namespace, name);
    const spec = pod.spec as Obj;
    const status = (pod.status ?? {}) as Obj;
    if (!spec['nodeName']) return this.schedule(pod);
    const node = this.ctx.api.find(this.ctx.type('Node'), undefined, String(spec['nodeName']));
    const nodeReady = node !== undefined && isNodeReady(node);
    this.watchEviction(pod, nodeReady);
    if (status['phase'] === 'Pending' && !this.timers.has(podKey(pod))) this.startAfterDelay(pod);
    if (status['phase'] === 'Running') this.updateReadiness(pod, nodeReady);
  }

  /**
   * Ends a pod's containers with an exit code and output, as its process would on a real node:
   * phase Succeeded (0) or Failed, containers terminated. The embedded cluster runs no processes,
   * so whoever plays the workload (a test, the admin API) says when and how it ends.
   */
  terminate(namespace: string, name: string, exitCode: number, output = ''): void {
    const pod = this.ctx.api.get(this.ctx.type('Pod'), namespace, name);
    const now = isoTime(this.ctx.clock);
    const status = copyJson(pod.status ?? {}) as Obj;
    status['phase'] = exitCode === 0 ? 'Succeeded' : 'Failed';
    status['containerStatuses'] = ((status['containerStatuses'] as Obj[] | undefined) ?? []).map((c) => ({
      ...c,
      ready: false,
      started: false,
      state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt: (c['state'] as Obj | undefined)?.['running'] ? ((c['state'] as Obj)['running'] as Obj)['startedAt'] : now, finishedAt: now } },
    }));
    status['conditions'] = ((status['conditions'] as Obj[] | undefined) ?? []).map((c) => (c['type'] === 'Ready' || c['type'] === 'ContainersReady' ? { ...c, status: 'False', reason: 'PodCompleted', lastTransitionTime: now } : c));
    this.logs.set(pod.metadata.uid ?? '', output);
    this.timers.get(`${namespace}/${name}`)?.cancel();
    this.setStatus(pod, status);
  }

  /**
   * A container that died and is started again by the kubelet (restartPolicy Always): its
   * restartCount goes up, its last state says why (OOMKilled, Error), and the pod is not ready
   * until the container runs again after the kubelet's back-off (10 s, doubling per restart, at
   * most 5 min: the kubelet's CrashLoopBackOff).
   */
  restartContainer(namespace: string, name: string, container: string, reason: 'OOMKilled' | 'Error'): void {
    const pod = this.ctx.api.get(this.ctx.type('Pod'), namespace, name);
    const now = isoTime(this.ctx.clock);
    const status = copyJson(pod.status ?? {}) as Obj;
    let restarts = 0;
    status['containerStatuses'] = ((status['containerStatuses'] as Obj[] | undefined) ?? []).map((c) => {
      if (c['name'] !== container) return c;
      restarts = Number(c['restartCount'] ?? 0) + 1;
      const running = ((c['state'] as Obj | undefined)?.['running'] as Obj | undefined)?.['startedAt'] ?? now;
      return { ...c, ready: false, restartCount: restarts, lastState: { terminated: { exitCode: reason === 'OOMKilled' ? 137 : 1, reason, startedAt: running, finishedAt: now } }, state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off restarting failed container ${container} in pod ${name}` } } };
    });
    status['conditions'] = ((status['conditions'] as Obj[] | undefined) ?? []).map((c) => (c['type'] === 'Ready' || c['type'] === 'ContainersReady' ? { ...c, status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${container}]`, lastTransitionTime: now } : c));
    this.setStatus(pod, status);
    recordEvent(this.ctx, pod, 'Warning', 'BackOff', `Back-off restarting failed container ${container} in pod ${name}`, 'kubelet');
    const backoff = Math.min(300_000, 10_000 * 2 ** Math.max(0, restarts - 1));
    const uid = pod.metadata.uid;
    this.ctx.clock.setTimer(backoff, () => {
      const current = this.ctx.api.find(this.ctx.type('Pod'), namespace, name);
      if (!current || current.metadata.uid !== uid) return;
      const again = copyJson(current.status ?? {}) as Obj;
      again['containerStatuses'] = ((again['containerStatuses'] as Obj[] | undefined) ?? []).map((c) => (c['name'] === container ? { ...c, started: true, state: { running: { startedAt: isoTime(this.ctx.clock) } } } : c));
      this.setStatus(current, again);
      recordEvent(this.ctx, current, 'Normal', 'Started', `Started container ${container}`, 'kubelet');
      // Readiness follows on the next reconcile (the mesh twin's checks decide it).
      this.ctx.enqueue('pods', `${namespace}/${name}`);
    });
  }

  /** Re-evaluates readiness of every running pod (after the mesh twin's state changed). */
  recheckAll(): void {
    for (const pod of this.ctx.api.list(this.ctx.type('Pod'))) this.ctx.enqueue('pods', `${pod.metadata.namespace}/${pod.metadata.name}`);
  }

  private schedule(pod: KubeObject): void {
    const selector = ((pod.spec as Obj)['nodeSelector'] as Record<string, string> | undefined) ?? {};
    const candidates = schedulableNodes(this.ctx).filter((n) => Object.entries(selector).every(([k, v]) => n.metadata.labels?.[k] === v));
    if (candidates.length === 0) {
      this.setStatus(pod, { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/0 nodes are available: no node matches.', lastTransitionTime: isoTime(this.ctx.clock), lastProbeTime: null }] });
      return;
    }
    const load = this.nodeLoad();
    const node = [...candidates].sort((a, b) => (load.get(a.metadata.name) ?? 0) - (load.get(b.metadata.name) ?? 0))[0]!;
    const bound = copyJson(pod);
    (bound.spec as Obj)['nodeName'] = node.metadata.name;
    const hostIP = (((node.status as Obj)['addresses'] as Obj[] | undefined) ?? [])[0]?.['address'];
    bound.status = { ...(pod.status as Obj), hostIP, hostIPs: [{ ip: hostIP }], conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: isoTime(this.ctx.clock) }] };
    const written = this.ctx.api.update(this.ctx.type('Pod'), pod.metadata.namespace, pod.metadata.name, bound).object;
    this.ctx.api.update(this.ctx.type('Pod'), pod.metadata.namespace, pod.metadata.name, { ...written, status: bound.status }, { subresource: 'status' });
    recordEvent(this.ctx, written, 'Normal', 'Scheduled', `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${node.metadata.name}`, 'default-scheduler');
  }

  /** Pods bound to each node, kept up to date from the store's events once first counted. */
  private load?: { byNode: Map<string, number>; nodeOf: Map<string, string> };

  private nodeLoad(): Map<string, number> {
    if (!this.load) {
      this.load = { byNode: new Map(), nodeOf: new Map() };
      for (const pod of this.ctx.api.list(this.ctx.type('Pod'))) this.observe({ type: 'ADDED', object: pod });
    }
    return this.load.byNode;
  }

  /** A pod was written or deleted: the count of pods per node follows (the scheduler's cache). */
  observe(event: { type: string; object: KubeObject }): void {
    if (!this.load) return;
    const { byNode, nodeOf } = this.load;
    const uid = event.object.metadata.uid ?? `${event.object.metadata.namespace}/${event.object.metadata.name}`;
    const was = nodeOf.get(uid);
    const node = event.type === 'DELETED' ? undefined : (event.object.spec as Obj | undefined)?.['nodeName'];
    const now = typeof node === 'string' ? node : undefined;
    if (was === now) return;
    if (was !== undefined) {
      byNode.set(was, (byNode.get(was) ?? 1) - 1);
      nodeOf.delete(uid);
    }
    if (now !== undefined) {
      byNode.set(now, (byNode.get(now) ?? 0) + 1);
      nodeOf.set(uid, now);
    }
  }

  private startAfterDelay(pod: KubeObject): void {
    const key = podKey(pod);
    const uid = pod.metadata.uid;
    this.timers.set(key, this.ctx.clock.setTimer(this.ctx.podStartDelayMs, () => {
      const current = this.ctx.api.find(this.ctx.type('Pod'), pod.metadata.namespace, pod.metadata.name);
      if (!current || current.metadata.uid !== uid) return;
      this.start(current);
    }));
  }

  private start(pod: KubeObject): void {
    const spec = pod.spec as Obj;
    const nodeName = String(spec['nodeName']);
    const now = isoTime(this.ctx.clock);
    const node = this.ctx.api.find(this.ctx.type('Node'), undefined, nodeName);
    const cidr = String((node?.spec as Obj | undefined)?.['podCIDR'] ?? '10.244.0.0/24');
    const next = (this.nextIp.get(nodeName) ?? 1) + 1;
    this.nextIp.set(nodeName, next);
    const podIP = cidr.replace(/\.0\/24$/, `.${(next % 250) + 2}`).replace(/^(\d+\.\d+)\.(\d+)\./, (_m, a: string, b: string) => `${a}.${(Number(b) + Math.floor(next / 250)) % 256}.`);
    const containers = ((spec['containers'] as Obj[] | undefined) ?? []).map((c) => ({
      name: c['name'],
      image: c['image'],
      imageID: `docker.io/library/${String(c['image'])}@sha256:${'0'.repeat(64)}`,
      containerID: `containerd://${this.ctx.random.suffix(12)}`,
      ready: false,
      started: true,
      restartCount: 0,
      state: { running: { startedAt: now } },
    }));
    const status = {
      ...(pod.status as Obj),
      phase: 'Running',
      podIP,
      podIPs: [{ ip: podIP }],
      startTime: now,
      containerStatuses: containers,
      conditions: [
        { type: 'PodReadyToStartContainers', status: 'True', lastProbeTime: null, lastTransitionTime: now },
        { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: now },
        { type: 'Ready', status: 'False', lastProbeTime: null, lastTransitionTime: now, reason: 'ContainersNotReady' },
        { type: 'ContainersReady', status: 'False', lastProbeTime: null, lastTransitionTime: now, reason: 'ContainersNotReady' },
        { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now },
      ],
    };
    this.setStatus(pod, status);
    for (const c of containers) recordEvent(this.ctx, pod, 'Normal', 'Started', `Started container ${String(c.name)}`, 'kubelet');
    this.ctx.enqueue('pods', `${pod.metadata.namespace}/${pod.metadata.name}`);
  }

  private updateReadiness(pod: KubeObject, nodeReady: boolean): void {
    let ready = nodeReady;
    let reason = nodeReady ? undefined : 'NodeNotReady';
    let message: string | undefined;
    // A container waiting to be restarted (CrashLoopBackOff) keeps the pod unready.
    const waiting = (((pod.status as Obj | undefined)?.['containerStatuses'] as Obj[] | undefined) ?? []).find((c) => (c['state'] as Obj | undefined)?.['waiting'] !== undefined);
    if (ready && waiting) [ready, reason, message] = [false, 'ContainersNotReady', `containers with unready status: [${String(waiting['name'])}]`];
    for (const check of this.ctx.readiness) {
      if (!ready) break;
      const verdict = check(pod);
      if (!verdict.ready) [ready, reason, message] = [false, verdict.reason ?? 'ContainersNotReady', verdict.message];
    }
    const status = copyJson(pod.status) as Obj;
    const conditions = (status['conditions'] as Obj[] | undefined) ?? [];
    const now = isoTime(this.ctx.clock);
    let changed = false;
    for (const condition of conditions) {
      if (condition['type'] !== 'Ready' && condition['type'] !== 'ContainersReady') continue;
      const want = ready ? 'True' : 'False';
      if (condition['status'] !== want) {
        condition['status'] = want;
        condition['lastTransitionTime'] = now;
        changed = true;
      }
      const wantReason = ready ? undefined : reason;
      const wantMessage = ready ? undefined : message;
      if (condition['reason'] !== wantReason || condition['message'] !== wantMessage) changed = true;
      if (wantReason === undefined) delete condition['reason'];
      else condition['reason'] = wantReason;
      if (wantMessage === undefined) delete condition['message'];
      else condition['message'] = wantMessage;
    }
    for (const c of (status['containerStatuses'] as Obj[] | undefined) ?? []) c['ready'] = ready;
    if (changed) this.setStatus(pod, status);
  }

  private watchEviction(pod: KubeObject, nodeReady: boolean): void {
    const key = podKey(pod);
    if (nodeReady) {
      this.evictions.get(key)?.cancel();
      this.evictions.delete(key);
      return;
    }
    if (this.evictions.has(key)) return;
    const uid = pod.metadata.uid;
    this.evictions.set(key, this.ctx.clock.setTimer(this.ctx.evictionDelayMs, () => {
      this.evictions.delete(key);
      const current = this.ctx.api.find(this.ctx.type('Pod'), pod.metadata.namespace, pod.metadata.name);
      if (!current || current.metadata.uid !== uid) return;
      const node = this.ctx.api.find(this.ctx.type('Node'), undefined, String((current.spec as Obj)['nodeName']));
      if (node && isNodeReady(node)) return;
      recordEvent(this.ctx, current, 'Normal', 'TaintManagerEviction', 'Marking for deletion Pod', 'taint-eviction-controller');
      this.ctx.api.delete(this.ctx.type('Pod'), current.metadata.namespace, current.metadata.name);
    }));
  }

  private setStatus(pod: KubeObject, status: Obj): void {
    const fresh = this.ctx.api.find(this.ctx.type('Pod'), pod.metadata.namespace, pod.metadata.name);
    if (!fresh || JSON.stringify(fresh.status) === JSON.stringify(status)) return;
    this.ctx.api.update(this.ctx.type('Pod'), fresh.metadata.namespace, fresh.metadata.name, { ...fresh, status }, { subresource: 'status' });
  }

  private forget(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    this.timers.get(key)?.cancel();
    this.timers.delete(key);
    this.evictions.get(key)?.cancel();
    this.evictions.delete(key);
  }
}

function podKey(pod: KubeObject): string {
  return `${pod.metadata.namespace}/${pod.metadata.name}`;
}
