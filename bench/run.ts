// Benchmarks print figures; each issue with a performance target adds its own file here.
import { readdir } from 'node:fs/promises';

const files = (await readdir(new URL('.', import.meta.url))).filter((f) => f.endsWith('.bench.ts')).sort();
if (files.length === 0) console.log('no benchmarks yet');
for (const file of files) {
  console.log(`# ${file}`);
  await import(new URL(file, import.meta.url).href);
}
