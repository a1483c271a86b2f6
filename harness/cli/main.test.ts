import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readFile } from 'node:fs/promises';
import type { CliIO } from './io.js';
import { runCli } from './main.js';

const ROOT = join(import.meta.dirname, '..', '..');

async function cli(args: string[], options: { isTTY?: boolean; env?: NodeJS.ProcessEnv } = {}) {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    env: options.env ?? {},
    isTTY: options.isTTY ?? false,
    cwd: ROOT,
  };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

describe('meshdrill CLI', () => {
  it('validates the example repo with exit 0', async () => {
    const { code, stdout, stderr } = await cli(['validate', 'examples/shop']);

    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toBe('✓ examples/shop: valid (1 CheckConfig, 1 Cluster, 1 GameDay, 1 RolloutPlan, 6 SLO, 1 Suite, 1 Topology) in 8 files; 2 other manifests ignored\n');
  });

  it('exits 1 on a broken file and prints file:line:col with the field path', async () => {
    const { code, stdout, stderr } = await cli(['validate', 'test/fixtures/bad-config/unknown-field.yaml']);

    expect(code).toBe(1);
    expect(stderr).toBe(
      'test/fixtures/bad-config/unknown-field.yaml:9:7 spec.stages[0].bakee: unknown field; did you mean "bake"? (allowed: name, namespaces, mtls, bake, gates, requires)\n',
    );
    expect(stdout).toBe('✗ test/fixtures/bad-config/unknown-field.yaml: 1 error in 1 file\n');
  });

  it('prints machine-readable findings with --output json', async () => {
    const { code, stdout } = await cli(['validate', '-o', 'json', 'test/fixtures/bad-config/stage-out-of-range.yaml']);

    expect(code).toBe(1);
    const result = JSON.parse(stdout) as { valid: boolean; results: Array<{ diagnostics: unknown[] }> };
    expect(result.valid).toBe(false);
    expect(result.results[0]?.diagnostics).toEqual([
      {
        severity: 'error',
        file: 'test/fixtures/bad-config/stage-out-of-range.yaml',
        line: 10,
        col: 10,
        path: 'status.stage',
        message: 'expected a stage from 0 to 2; found 3',
      },
    ]);
  });

  it.each([
    [['validate'], "error: missing required argument 'paths'"],
    [['validate', '--bogus', 'x'], "error: unknown option '--bogus'"],
    [['frobnicate'], "error: unknown command 'frobnicate'"],
    [['-o', 'yaml', 'validate', 'x'], "error: option '-o, --output <format>' argument 'yaml' is invalid. Allowed choices are text, json."],
  ])('exits 2 on a usage error: %j', async (args, message) => {
    const { code, stderr } = await cli(args);

    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toBe(message);
  });

  it('exits 2 when a path does not exist', async () => {
    const { code, stderr } = await cli(['validate', 'nowhere.yaml']);

    expect(code).toBe(2);
    expect(stderr).toBe('meshdrill: nowhere.yaml: no such file or directory\n');
  });

  it('prints a JSON Schema that validates the example plan', async () => {
    const { code, stdout } = await cli(['schema', 'RolloutPlan']);
    const plan: unknown = parse(await readFile(join(ROOT, 'examples/shop/rollout-plan.yaml'), 'utf8'));

    expect(code).toBe(0);
    const validate = new Ajv2020({ strict: false }).compile(JSON.parse(stdout) as object);
    expect(validate(plan)).toBe(true);
  });

  it('names the valid kinds when asked for an unknown one', async () => {
    const { code, stderr } = await cli(['schema', 'RolloutPlna']);

    expect(code).toBe(2);
    expect(stderr).toBe('meshdrill: Unknown kind "RolloutPlna"; did you mean "RolloutPlan"? One of: Topology, RolloutPlan, SLO, Fault, GameDay, Suite, Cluster, CheckConfig\n');
  });

  it('colours only on a terminal without NO_COLOR', async () => {
    const args = ['validate', 'test/fixtures/bad-config/bad-name.yaml'];

    const tty = await cli(args, { isTTY: true });
    const noColor = await cli(args, { isTTY: true, env: { NO_COLOR: '1' } });
    const flag = await cli(['--no-color', ...args], { isTTY: true });
    const pipe = await cli(args, { isTTY: false });

    expect(tty.stderr).toContain('\u001b[31m');
    for (const run of [noColor, flag, pipe]) expect(run.stderr).not.toContain('\u001b[');
  });

  it('teaches in --help', async () => {
    const { code, stdout } = await cli(['--help']);

    expect(code).toBe(0);
    expect(stdout).toContain('meshdrill validate examples/shop');
    expect(stdout).toContain('validate <paths...>');
  });
});

describe('meshdrill as a process', () => {
  const run = promisify(execFile);

  it('sets the exit code from the command', async () => {
    const bin = ['--import', 'tsx', join(ROOT, 'harness', 'bin.ts')];

    const ok = await run(process.execPath, [...bin, 'validate', 'examples/shop'], { cwd: ROOT });
    const bad = await run(process.execPath, [...bin, 'validate', 'test/fixtures/bad-config/tabs.yaml'], { cwd: ROOT }).catch((e: { code: number; stderr: string }) => e);

    expect(ok.stdout).toContain('✓ examples/shop');
    expect(bad).toMatchObject({ code: 1, stderr: 'test/fixtures/bad-config/tabs.yaml:4:1 YAML syntax error: Tabs are not allowed as indentation\n' });
  });
});

describe('committed JSON Schemas', () => {
  it('match what `meshdrill schema` generates (run `npm run schemas` after changing a schema)', async () => {
    const { jsonSchemaFor, KIND_NAMES } = await import('../config/index.js');

    for (const kind of KIND_NAMES) {
      const committed = await readFile(join(ROOT, 'schemas', `${kind}.json`), 'utf8');
      expect(JSON.parse(committed), kind).toEqual(jsonSchemaFor(kind));
    }
  });
});
