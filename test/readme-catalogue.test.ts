import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FaultSpec } from '../chaos/schema.js';
import { defaultMinSamples, SLI_DESCRIPTIONS, SLI_NAMES } from '../model/index.js';

// The README's catalogue tables are what a platform engineer reads first: each one lists exactly
// what the code knows, with what the code says about it.
const README = join(import.meta.dirname, '..', 'README.md');

/** The rows of the Markdown table whose header row starts with `| <first> |`: first cell → the others. */
async function table(first: string): Promise<Map<string, string[]>> {
  const lines = (await readFile(README, 'utf8')).split('\n');
  const start = lines.findIndex((l) => l.startsWith(`| ${first} |`));
  expect(start, `a table headed "${first}"`).toBeGreaterThanOrEqual(0);
  const rows = new Map<string, string[]>();
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const [key, ...rest] = line.split(' | ').map((c) => c.replace(/^\| ?| ?\|$/g, ''));
    rows.set(/^`([^`]+)`/.exec(key!)![1]!, rest);
  }
  return rows;
}

describe('the README\'s catalogue', () => {
  it('lists every SLI once, with the description and default minSamples the code uses', async () => {
    const rows = await table('SLI');
    expect([...rows.keys()]).toEqual(SLI_NAMES);
    for (const sli of SLI_NAMES) expect(rows.get(sli), sli).toEqual([SLI_DESCRIPTIONS[sli], defaultMinSamples(sli) === 100 ? '100 requests' : '1 series']);
  });

  it('lists every fault type once', async () => {
    const rows = await table('fault');
    const types = FaultSpec.options.map((o) => o.shape.type.value);
    expect([...rows.keys()].sort()).toEqual([...types].sort());
  });

  it('lists every scenario in examples/scenarios', async () => {
    const rows = await table('scenario');
    const dir = join(import.meta.dirname, '..', 'examples', 'scenarios');
    const files = [];
    for (const f of await readdir(dir)) if (f.endsWith('.yaml') && (await readFile(join(dir, f), 'utf8')).includes('kind: GameDay')) files.push(f);
    expect([...rows.keys()].sort()).toEqual(files.sort());
  });
});
