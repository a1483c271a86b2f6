// Embedded cluster figures: list latency by pod count, kubectl get pods -A at 5,000 pods,
// 1,000 creates through client-node, 10,000 watch events, resident memory.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { startSimCluster, type SimCluster } from '../clusters/sim/index.js';
import { timing } from './reference.js';

const run = promisify(execFile);

function type(cluster: SimCluster, resource: string) {
  return cluster.api.types.all().find((t) => t.resource === resource)!;
}

async function timeIt<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const start = performance.now();
  const result = await fn();
  return [performance.now() - start, result];
}

// The 5,000-pod figures are taken from a standalone `meshdrill sim serve`, built from dist/, as a
// person runs it: its resident memory is the server's own, not this benchmark's.
const dir = await mkdtemp(join(tmpdir(), 'meshdrill-bench-'));
const kubeconfigPath = join(dir, 'kubeconfig');
const server = spawn(process.execPath, [join(import.meta.dirname, '..', 'bin', 'meshdrill.js'), 'sim', 'serve', '--nodes', '10', '--kubeconfig', kubeconfigPath], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise<string>((resolve) => {
  let out = '';
  server.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    const match = /serving at (http:\/\/[\d.:]+)/.exec(out);
    if (match) resolve(match[1]!);
  });
});
const post = (path: string, body: unknown) => fetch(`${url}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
await Promise.all(Array.from({ length: 100 }, (_, n) => post('/api/v1/namespaces', { metadata: { name: `ns-${n}` } })));
const rssOf = async (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
const env = { PATH: process.env['PATH'] ?? '', HOME: dir, KUBECONFIG: kubeconfigPath };

console.log('list latency by pod count (GET /api/v1/pods as JSON, and as=Table as kubectl asks):');
let count = 0;
for (const target of [1_000, 2_000, 5_000, 10_000]) {
  for (let i = count; i < target; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, target - i) }, (_, j) => {
        const n = i + j;
        return post(`/api/v1/namespaces/ns-${n % 100}/pods`, { metadata: { name: `pod-${n}`, labels: { app: `app-${n % 30}` } }, spec: { containers: [{ name: 'app', image: 'shop/app:1', ports: [{ containerPort: 8080 }] }] } });
      }),
    );
  }
  count = target;
  // Real time: pods run within the start delay (300 ms).
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const [json] = await timeIt(async () => (await fetch(`${url}/api/v1/pods`)).text());
  const [table] = await timeIt(async () => (await fetch(`${url}/api/v1/pods`, { headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } })).text());
  console.log(`  ${String(target).padStart(6)} pods: json ${json.toFixed(0).padStart(5)} ms, table ${table.toFixed(0).padStart(5)} ms, server RSS ${(await rssOf(server.pid!)).toFixed(0)} MB`);
  if (target === 5_000) {
    await run('kubectl', ['get', 'ns'], { env }).catch(() => undefined); // warm the discovery cache
    const [elapsed, out] = await timeIt(() => run('kubectl', ['get', 'pods', '-A'], { env, maxBuffer: 64 * 1024 * 1024 }).catch((e: unknown) => ({ stdout: String(e) })));
    console.log(`${timing('  kubectl get pods -A at 5,000 pods (real kubectl)', elapsed, 500)} (${out.stdout.split('\n').length - 2} rows)`);
    console.log(`  sim serve resident memory at 5,000 pods: ${(await rssOf(server.pid!)).toFixed(0)} MB  [target < 300 MB]`);
  }
}
server.kill('SIGTERM');

const fresh = await startSimCluster({ nodes: 3 });
const kc = new KubeConfig();
kc.loadFromString(fresh.kubeconfig);
const core = kc.makeApiClient(CoreV1Api);
const [creates] = await timeIt(async () => {
  for (let batch = 0; batch < 20; batch++) {
    await Promise.all(Array.from({ length: 50 }, (_, i) => core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: `cm-${batch}-${i}` }, data: { k: 'v' } } })));
  }
});
console.log(`1,000 creates through client-node (50 in flight): ${creates.toFixed(0)} ms  [target < 2000 ms]`);

const [watchMs, received] = await timeIt(async () => {
  const response = await fetch(`${fresh.url}/api/v1/namespaces/default/secrets?watch=true&resourceVersion=${fresh.api.store.currentRv()}`);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let seen = 0;
  let buffer = '';
  const producing = (async () => {
    for (let i = 0; i < 10_000; i++) fresh.api.create(type(fresh, 'secrets'), 'default', { metadata: { name: `s-${i}` }, stringData: { k: 'v' } });
  })();
  while (seen < 10_000) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    seen += lines.length;
  }
  await producing;
  await reader.cancel();
  return seen;
});
console.log(`10,000 watch events delivered: ${watchMs.toFixed(0)} ms (${received} received)  [target < 1000 ms]`);
await fresh.close();
