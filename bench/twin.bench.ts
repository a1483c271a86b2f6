// Mesh twin figures at scale: the example topology for 2 simulated hours; generated meshes of
// 100 to 5,000 services (two pods each, every service calling two of the next namespace) set up
// and run at 10,000 rps; how wall time grows with simulated hours and with request classes.
// Each scenario runs in a process of its own, so resident memory is that scenario's alone.
import { performance } from 'node:perf_hooks';
import { documentsOfKind, loadConfig } from '../harness/config/index.js';
import { Topology } from '../model/topology.js';
import { startMeshLab } from '../test/helpers/mesh-lab.js';
import { TrafficModel } from '../clusters/sim/mesh/traffic.js';
import { reference, size, timing } from './reference.js';

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

interface Result {
  setupMs: number;
  /** Wall time of each simulated span asked for, cumulative: [hours, ms]. */
  spans: Array<[number, number]>;
  rssMb: number;
  pods: number;
  /** Ticks run, and how many repeated the last one's effects (nothing they read had moved). */
  ticks: { total: number; repeated: number };
}

/** Sets the mesh up (install, deploy, mesh every namespace) and runs its traffic, noting wall time at each mark. */
async function run(topology: Topology, hours: number[], rpsScale = 1, repeatUnchangedTicks = true): Promise<Result> {
  const setupStart = performance.now();
  const lab = await startMeshLab({ mesh: 'istio', topology, nodes: 10 });
  for (const ns of topology.spec.namespaces) if (ns.meshable) await lab.adapter.meshNamespace(lab.kube, ns.name, { now: new Date(lab.cluster.clock.now()) });
  await lab.cluster.advance(30_000);
  const setupMs = performance.now() - setupStart;
  const traffic = new TrafficModel(lab.twin, topology, { rpsScale, repeatUnchangedTicks });
  traffic.start();
  const start = performance.now();
  const spans: Array<[number, number]> = [];
  let done = 0;
  for (const mark of hours) {
    await lab.cluster.advance((mark - done) * HOUR);
    done = mark;
    spans.push([mark, performance.now() - start]);
  }
  traffic.stop();
  const pods = lab.twin.pods().length;
  const rssMb = process.memoryUsage().rss / 1_048_576;
  await lab.close();
  return { setupMs, spans, rssMb, pods, ticks: { ...traffic.ticks } };
}

// MESHDRILL_TWIN_SCENARIO=example, or <hours>[,<hours>…]:<services>:<namespaces>:<rps>[:<request classes>[:every]]
// (one scenario, printed as JSON; what the table below runs, and what a profile runs on its own).
// `every`: every tick is worked out, none repeated (the cost of a tick after a change).
const scenario = process.env['MESHDRILL_TWIN_SCENARIO'];
if (scenario) {
  const [kind, a, b, c, d, e] = scenario.split(':');
  if (kind === 'example') {
    const repo = await loadConfig('examples/shop');
    const shop = documentsOfKind(repo, 'Topology')[0]!.data;
    const shopRps = shop.spec.entrypoints.reduce((n, e) => n + e.rps, 0);
    console.log(JSON.stringify(await run(shop, [2], 500 / shopRps)));
  } else {
    console.log(JSON.stringify(await run(generated(Number(a), Number(b), Number(c), Number(d ?? 1)), kind!.split(',').map(Number), 1, e !== 'every')));
  }
  process.exit(0);
}

const { execFileSync } = await import('node:child_process');
function child(spec: string): Result {
  const out = execFileSync(process.execPath, [...process.execArgv, new URL(import.meta.url).pathname], { env: { ...process.env, MESHDRILL_TWIN_SCENARIO: spec }, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Result;
}
const last = (r: Result) => r.spans.at(-1)!;

console.log(`reference (JSON.parse + JSON.stringify of a 5,000-pod list): ${reference().toFixed(0)} ms`);
const example = child('example');
console.log(timing('example topology (30 services) at 500 rps, 2 simulated hours', last(example)[1], 2_000));

// The headline meshes, 1,000 and 5,000 services at 10,000 rps, run a whole simulated hour; the
// other sizes a tenth of one. The first ticks make every series and outcome; a steady hour is timed
// between the marks after them. A tick that starts where the last one did repeats its effects
// (clusters/sim/mesh/tick-effects.ts): "repeated" says how many did.
console.log('by services (10,000 rps, 2 pods a service, 10 services a namespace):');
console.log('   services    pods    setup  first 0.05 h  per steady hour      RSS   ticks repeated');
const bySize = new Map<number, Result>();
// Between the last two marks: 0.05 h to 0.1 h, or 0.1 h to 1 h where the whole hour runs.
const steadyHour = (r: Result) => {
  const [a, b] = r.spans.slice(-2) as [[number, number], [number, number]];
  return (b[1] - a[1]) / (b[0] - a[0]);
};
for (const services of [100, 300, 1_000, 3_000, 5_000]) {
  const r = child(`${services === 1_000 || services === 5_000 ? '0.05,0.1,1' : '0.05,0.1'}:${services}:${services / 10}:10000`);
  bySize.set(services, r);
  console.log(`   ${services.toLocaleString('en-US').padStart(8)}  ${String(r.pods).padStart(6)}  ${(r.setupMs / 1000).toFixed(1).padStart(5)} s  ${(r.spans[0]![1] / 1000).toFixed(1).padStart(10)} s  ${(steadyHour(r) / 1000).toFixed(1).padStart(13)} s  ${r.rssMb.toFixed(0).padStart(5)} MB  ${String(r.ticks.repeated).padStart(6)} of ${r.ticks.total}`);
}
const big = bySize.get(1_000)!;
console.log(timing('  1,000 services / 100 namespaces: setup (install, deploy 2,000 pods, mesh)', big.setupMs, 10_000));
console.log(timing('  1,000 services at 10,000 rps, 1 simulated hour', last(big)[1], 10_000));
console.log(size('  1,000 services, resident memory', big.rssMb, 600));
const huge = bySize.get(5_000)!;
console.log(timing('  5,000 services at 10,000 rps, 1 simulated hour', last(huge)[1], 60_000));
console.log(size('  5,000 services, resident memory', huge.rssMb, 2_048));

const byHours = child('0.5,1,2:300:30:1000');
console.log('by simulated hours (300 services, 1,000 rps, one run):');
for (const [hours, ms] of byHours.spans) console.log(`  ${String(hours).padStart(4)} h: ${ms.toFixed(0).padStart(6)} ms (${(ms / hours / 1000).toFixed(1)} s per hour)`);

// Request classes (policies and routes tell them apart): the cost of a worked-out tick grows with
// classes × edges. Every tick is worked out here, as after a change: a repeated tick costs the same
// whatever the classes.
console.log('by request classes per edge (300 services, 1,000 rps, 0.25 simulated hours, every tick worked out)  [goal: linear in classes]:');
const classRuns = [1, 2, 4].map((k) => [k, child(`0.25:300:30:1000:${k}:every`)] as const);
const byClasses = classRuns.map(([k, r]) => [k, last(r)[1]] as const);
for (const [k, ms] of byClasses) console.log(`  ${k} class${k === 1 ? ' ' : 'es'}: ${ms.toFixed(0).padStart(6)} ms (${(ms / byClasses[0]![1]).toFixed(2)}× one class)`);
const [, oneClass] = classRuns[0]!;
console.log(`  a worked-out tick (300 services, 1 class): ${(last(oneClass)[1] / oneClass.ticks.total).toFixed(1)} ms; a repeated one at 1,000 services: ${(steadyHour(big) / 360).toFixed(1)} ms`);
