// Mesh twin figures: the example topology at 500 rps for 2 simulated hours; 1,000 services in
// 100 namespaces at 10,000 rps for 1 simulated hour; how wall time grows with services and time.
import { performance } from 'node:perf_hooks';
import { documentsOfKind, loadConfig } from '../harness/config/index.js';
import { Topology } from '../model/topology.js';
import { startMeshLab } from '../test/helpers/mesh-lab.js';
import { TrafficModel } from '../clusters/sim/mesh/traffic.js';

const HOUR = 3_600_000;

function generated(services: number, namespaces: number, rps: number, classes = 1): Topology {
  const requests = classes > 1 ? Array.from({ length: classes }, (_, i) => ({ method: i % 2 ? 'POST' : 'GET', path: `/r/${i}`, share: `${100 / classes}%` })) : undefined;
  const perNs = Math.ceil(services / namespaces);
  const ref = (i: number) => `ns-${Math.floor(i / perNs)}/svc-${i}`;
  return Topology.parse({
    apiVersion: 'meshdrill.dev/v1alpha1',
    kind: 'Topology',
    metadata: { name: `gen-${services}` },
    spec: {
      entrypoints: Array.from({ length: perNs }, (_, i) => ({ service: ref(i), rps: rps / perNs })),
      namespaces: Array.from({ length: namespaces }, (_, n) => ({
        name: `ns-${n}`,
        services: Array.from({ length: perNs }, (_, k) => {
          const i = n * perNs + k;
          // Each service calls two services of the next namespace: a layered DAG.
          const next = [((n + 1) * perNs + ((k * 7) % perNs)), ((n + 1) * perNs + ((k * 13 + 3) % perNs))].filter((j) => j < services && Math.floor(j / perNs) === n + 1);
          return { name: `svc-${i}`, replicas: 2, calls: [...new Set(next)].map((j) => ({ to: ref(j), share: '50%', ...(requests ? { requests } : {}) })) };
        }).filter((s) => Number(s.name.slice(4)) < services),
      })),
    },
  });
}

async function run(topology: Topology, simulatedMs: number, rpsScale = 1, meshAll = true): Promise<{ setupMs: number; wallMs: number; rssMb: number; pods: number }> {
  const setupStart = performance.now();
  const lab = await startMeshLab({ mesh: 'istio', topology, nodes: 10 });
  if (meshAll) for (const ns of topology.spec.namespaces) if (ns.meshable) await lab.adapter.meshNamespace(lab.kube, ns.name, { now: new Date(lab.cluster.clock.now()) });
  await lab.cluster.advance(30_000);
  const setupMs = performance.now() - setupStart;
  const traffic = new TrafficModel(lab.twin, topology, { rpsScale });
  traffic.start();
  const start = performance.now();
  await lab.cluster.advance(simulatedMs);
  const wallMs = performance.now() - start;
  traffic.stop();
  const pods = lab.twin.pods().length;
  const rssMb = process.memoryUsage().rss / 1_048_576;
  await lab.close();
  return { setupMs, wallMs, rssMb, pods };
}

// Each scenario runs in a process of its own, so resident memory is that scenario's alone.
const scenario = process.env['MESHDRILL_TWIN_SCENARIO'];
if (scenario) {
  const [kind, a, b, c, d] = scenario.split(':');
  if (kind === 'example') {
    const repo = await loadConfig('examples/shop');
    const shop = documentsOfKind(repo, 'Topology')[0]!.data;
    const shopRps = shop.spec.entrypoints.reduce((n, e) => n + e.rps, 0);
    const r = await run(shop, 2 * HOUR, 500 / shopRps);
    console.log(`example topology (${shop.spec.namespaces.flatMap((n) => n.services).length} services, ${r.pods} pods) at 500 rps for 2 simulated hours: ${r.wallMs.toFixed(0)} ms wall, RSS ${r.rssMb.toFixed(0)} MB  [target < 2000 ms] (setup ${r.setupMs.toFixed(0)} ms)`);
  } else {
    const r = await run(generated(Number(a), Number(b), Number(c), Number(d ?? 1)), Number(kind) * HOUR);
    console.log(JSON.stringify(r));
  }
  process.exit(0);
}

const { execFileSync } = await import('node:child_process');
function child(spec: string): string {
  return execFileSync(process.execPath, [...process.execArgv, new URL(import.meta.url).pathname], { env: { ...process.env, MESHDRILL_TWIN_SCENARIO: spec }, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }).trim().split('\n').at(-1) ?? '';
}
const parse = (line: string) => JSON.parse(line) as { setupMs: number; wallMs: number; rssMb: number; pods: number };

console.log(child('example'));
const big = parse(child('1:1000:100:10000'));
console.log(`1,000 services / 100 namespaces (${big.pods} pods) at 10,000 rps for 1 simulated hour: ${big.wallMs.toFixed(0)} ms wall, RSS ${big.rssMb.toFixed(0)} MB  [targets < 30000 ms, < 1024 MB] (setup, not timed by the target: ${big.setupMs.toFixed(0)} ms)`);
console.log('wall time by services (1 simulated hour, 1,000 rps):');
for (const n of [100, 300, 1000]) console.log(`  ${String(n).padStart(5)} services: ${parse(child(`1:${n}:${Math.max(10, n / 10)}:1000`)).wallMs.toFixed(0).padStart(6)} ms`);
console.log('wall time by simulated time (300 services, 1,000 rps):');
for (const hours of [0.5, 1, 2]) console.log(`  ${String(hours).padStart(4)} h: ${parse(child(`${hours}:300:30:1000`)).wallMs.toFixed(0).padStart(6)} ms`);
// Request classes (policies and routes tell them apart): the cost per tick grows with classes × edges.
console.log('wall time by request classes per edge (300 services, 1,000 rps, 1 simulated hour)  [goal: 1 class ≤ 1.5× the model without classes; linear in classes]:');
const byClasses = [1, 2, 4].map((k) => [k, parse(child(`1:300:30:1000:${k}`)).wallMs] as const);
for (const [k, ms] of byClasses) console.log(`  ${k} class${k === 1 ? ' ' : 'es'}: ${ms.toFixed(0).padStart(6)} ms (${(ms / byClasses[0]![1]).toFixed(2)}× one class)`);
