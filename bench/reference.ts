// The fixed reference workload every benchmark figure is also given against, measured in the same
// run: JSON.parse + JSON.stringify of a list of 5,000 meshed pods, the work a real API server and
// kubectl do for `kubectl get pods -A` at that size. On a busy machine it slows with the figures,
// so the ratios compare across runs where the milliseconds do not.
import { performance } from 'node:perf_hooks';

/** A pod as the embedded cluster stores it once Istio's injector has added its sidecar. */
function meshedPod(i: number): Record<string, unknown> {
  const container = (name: string, image: string) => ({
    name,
    image,
    ports: [{ containerPort: name === 'app' ? 8080 : 15090, protocol: 'TCP' }],
    resources: { requests: { cpu: '10m', memory: '40Mi' } },
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    imagePullPolicy: 'IfNotPresent',
  });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `svc-${i}-7c9f8d6b5d-${(i * 7919).toString(36).padStart(5, 'x').slice(0, 5)}`,
      namespace: `ns-${i % 500}`,
      uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      resourceVersion: String(10_000 + i),
      creationTimestamp: '2026-01-01T00:00:00Z',
      labels: { app: `svc-${i}`, 'pod-template-hash': '7c9f8d6b5d', 'security.istio.io/tlsMode': 'istio', 'service.istio.io/canonical-name': `svc-${i}` },
      annotations: { 'sidecar.istio.io/status': '{"initContainers":["istio-init"],"containers":["istio-proxy"]}', 'prometheus.io/port': '15020' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `svc-${i}-7c9f8d6b5d`, uid: `rs-${i}`, controller: true, blockOwnerDeletion: true }],
    },
    spec: { containers: [container('app', 'shop/app:1'), container('istio-proxy', 'docker.io/istio/proxyv2:1.27.0')], initContainers: [container('istio-init', 'docker.io/istio/proxyv2:1.27.0')], nodeName: `sim-worker${i % 10}`, serviceAccountName: 'default', restartPolicy: 'Always', dnsPolicy: 'ClusterFirst' },
    status: {
      phase: 'Running',
      podIP: `10.244.${i % 250}.${(i % 200) + 2}`,
      conditions: ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({ type, status: 'True', lastTransitionTime: '2026-01-01T00:00:02Z' })),
      containerStatuses: ['app', 'istio-proxy'].map((name) => ({ name, ready: true, restartCount: 0, started: true, state: { running: { startedAt: '2026-01-01T00:00:02Z' } } })),
    },
  };
}

/** Median wall time (ms) of JSON.parse + JSON.stringify of a 5,000-pod list, over 7 runs. */
export function measureReference(): number {
  const text = JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: Array.from({ length: 5_000 }, (_, i) => meshedPod(i)) });
  const times: number[] = [];
  for (let run = 0; run < 7; run++) {
    const start = performance.now();
    JSON.stringify(JSON.parse(text));
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[3]!;
}

let cached: number | undefined;

/** The reference, measured once per process. */
export function reference(): number {
  cached ??= measureReference();
  return cached;
}

const grouped = (n: number) => Math.round(n).toLocaleString('en-US');

/**
 * A timing beside its goal and as a multiple of the reference: "… 9,412 ms = 61× ref  [goal ≤ 10,000 ms: met]".
 * Without a goal, the figure and its ratio only.
 */
export function timing(label: string, ms: number, goalMs?: number): string {
  const ratio = ms / reference();
  const goal = goalMs === undefined ? '' : `  [goal ≤ ${grouped(goalMs)} ms: ${ms <= goalMs ? 'met' : 'MISSED'}]`;
  return `${label}: ${grouped(ms)} ms = ${ratio >= 10 ? ratio.toFixed(0) : ratio.toFixed(1)}× ref${goal}`;
}

/** A size beside its goal: "… 587 MB  [goal ≤ 600 MB: met]". */
export function size(label: string, mb: number, goalMb?: number): string {
  return `${label}: ${grouped(mb)} MB${goalMb === undefined ? '' : `  [goal ≤ ${grouped(goalMb)} MB: ${mb <= goalMb ? 'met' : 'MISSED'}]`}`;
}
