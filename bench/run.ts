// Benchmarks print figures beside their goals and as multiples of a reference workload measured
// in the same run (reference.ts); each issue with a performance target adds its own file here.
import { readdir } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { reference, timing } from './reference.js';

const started = performance.now();
const files = (await readdir(new URL('.', import.meta.url))).filter((f) => f.endsWith('.bench.ts')).sort();
if (files.length === 0) console.log('no benchmarks yet');
console.log(`reference: JSON.parse + JSON.stringify of a 5,000-pod list, ${reference().toFixed(0)} ms`);
for (const file of files) {
  console.log(`# ${file}`);
  await import(new URL(file, import.meta.url).href);
}
console.log(timing('the whole npm run bench', performance.now() - started, 180_000));
