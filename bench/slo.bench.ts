// SLO figures: 200 gates evaluated over a 2-hour virtual window on the embedded source; PromQL rendering.
import { performance } from 'node:perf_hooks';
import { documentsOfKind, loadConfig } from '../harness/config/index.js';
import { startMeshLab } from '../test/helpers/mesh-lab.js';
import { TrafficModel } from '../clusters/sim/mesh/traffic.js';
import { promqlFor } from '../meshes/promql.js';
import { evaluate } from '../slo/evaluate.js';
import type { SliKey } from '../model/sli.js';
import type { Scope } from '../slo/schema.js';
import { EmbeddedSource } from '../slo/sources/embedded.js';

const repo = await loadConfig('examples/shop');
const shop = documentsOfKind(repo, 'Topology')[0]!.data;
const lab = await startMeshLab({ mesh: 'istio', topology: shop });
for (const ns of shop.spec.namespaces) if (ns.meshable) await lab.adapter.meshNamespace(lab.kube, ns.name, { now: new Date(lab.cluster.clock.now()) });
await lab.cluster.advance(30_000);
const traffic = new TrafficModel(lab.twin, shop);
traffic.start();
const start = lab.cluster.clock.now();
await lab.cluster.advance(2 * 3_600_000);
const window = { from: start, to: lab.cluster.clock.now() };

const slis: Array<[SliKey, string]> = [
  ['success-rate', '>= 99.9%'],
  ['latency-p99', '<= 250ms'],
  ['latency-p50', '<= 50ms'],
  ['plaintext-share', '<= 0%'],
  ['error-rate-5xx', '<= 0.1%'],
];
const scopes: Scope[] = [{}, ...shop.spec.namespaces.map((n) => ({ namespace: n.name })), ...shop.spec.namespaces.flatMap((n) => n.services.map((s) => ({ service: `${n.name}/${s.name}` })))];
const gates = Array.from({ length: 200 }, (_, i) => ({ sli: slis[i % slis.length]!, scope: scopes[i % scopes.length]! }));
const source = new EmbeddedSource(lab.twin.metrics, 'istio');

const t0 = performance.now();
const verdicts = new Map<string, number>();
for (const gate of gates) {
  const measurement = await source.measure(gate.sli[0], gate.scope, window);
  const result = evaluate(gate.sli[0], gate.scope, gate.sli[1], measurement, { minSamples: 100 });
  verdicts.set(result.verdict, (verdicts.get(result.verdict) ?? 0) + 1);
}
const elapsed = performance.now() - t0;
console.log(`200 gates over a 2-hour virtual window (embedded source): ${elapsed.toFixed(0)} ms  [target < 200 ms] verdicts ${JSON.stringify(Object.fromEntries(verdicts))}`);

const r0 = performance.now();
for (let i = 0; i < 10_000; i++) promqlFor('istio', 'sidecar', gates[i % 200]!.sli[0], gates[i % 200]!.scope, '5m');
console.log(`PromQL rendering, 10,000 calls over 200 distinct gates (cached): ${(performance.now() - r0).toFixed(1)} ms`);
await lab.close();
