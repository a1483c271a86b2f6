// Report figures: a 2-hour game day with 50 SLI series at 10 s resolution, rendered in every format.
import { performance } from 'node:perf_hooks';
import { renderHtml } from '../reports/html.js';
import { renderJunit } from '../reports/junit.js';
import { renderMarkdown } from '../reports/markdown.js';
import { parseRunRecord } from '../reports/run-record.js';
import { sampleRecord } from '../reports/sample-record.js';

const record = sampleRecord({ series: 50, hours: 2, resolutionMs: 10_000, events: 2_000 });
const json = JSON.stringify(record);
const t0 = performance.now();
const parsed = parseRunRecord(JSON.parse(json));
const html = renderHtml(parsed);
const t1 = performance.now();
const md = renderMarkdown(parsed);
const junit = renderJunit(parsed);
const t2 = performance.now();
const points = parsed.series!.reduce((n, s) => n + s.points.length, 0);
console.log(`2-hour game day, 50 series × ${parsed.series![0]!.points.length} points (${points} in all), record ${(json.length / 1_048_576).toFixed(1)} MB:`);
console.log(`  read + HTML: ${(t1 - t0).toFixed(0)} ms, HTML ${(html.length / 1_048_576).toFixed(2)} MB  [targets < 1000 ms, < 2 MB]`);
console.log(`  Markdown (${md.length} chars) + JUnit (${junit.length} chars): ${(t2 - t1).toFixed(0)} ms`);
