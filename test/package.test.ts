import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// What `npm pack` ships and what a program importing meshdrill gets.
const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');

describe('the package', () => {
  it('ships the CLI, the compiled library with its types, the schemas, the example and the licence, and no tests', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
    const files = (JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);

    for (const f of ['bin/meshdrill.js', 'dist/index.js', 'dist/index.d.ts', 'dist/harness/cli/main.js', 'LICENSE', 'README.md', 'package.json', 'schemas/Topology.json', 'examples/shop/gameday.yaml']) expect(files).toContain(f);
    expect(files.filter((f) => /\.test\.|^test\/|^bench\/|^\.meshdrill|node_modules/.test(f))).toEqual([]);
  });

  it('declares its library entry and the Node it needs, as its dependencies declare theirs', async () => {
    const manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, unknown>; types: string; engines: { node: string }; license: string };
    const library = (await import('meshdrill')) as Record<string, unknown>;

    expect(manifest.exports['.']).toEqual({ types: './dist/index.d.ts', import: './dist/index.js' });
    expect(manifest.engines.node).toBe('>=22');
    for (const name of ['loadConfig', 'startSimCluster', 'parseRunRecord', 'runCli', 'ConfigError']) expect(typeof library[name], name).toBe('function');
    expect((await readFile(join(ROOT, 'LICENSE'), 'utf8')).trimStart().startsWith('Apache License')).toBe(true);
  });
});
