import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, symlink, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Input a pull request could carry, each refused (or read) within budgets of time and memory,
// measured in a child process running the CLI as a user would.

const ROOT = join(import.meta.dirname, '..');
const PRELOAD = join(import.meta.dirname, 'helpers', 'measure-preload.mjs');

interface Measured {
  code: number | null;
  out: string;
  cpuMs: number;
  maxRssMb: number;
}

async function measure(args: string[], cwd: string): Promise<Measured> {
  const dir = await mkdtemp(join(tmpdir(), 'meshdrill-measure-'));
  const file = join(dir, 'usage.json');
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), '--import', PRELOAD, join(ROOT, 'harness', 'bin.ts'), ...args], { cwd, env: { ...process.env, MESHDRILL_MEASURE: file, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => void (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => void (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const usage = JSON.parse(await readFile(file, 'utf8')) as { cpuMs: number; maxRssMb: number };
  return { code, out, ...usage };
}

const doc = (kind: string, name: string, spec: unknown) => `apiVersion: meshdrill.dev/v1alpha1\nkind: ${kind}\nmetadata: {name: ${name}}\nspec: ${JSON.stringify(spec)}\n`;
const TOPOLOGY = doc('Topology', 'shop', { entrypoints: [{ service: 'web/app', rps: 10 }], namespaces: [{ name: 'web', services: [{ name: 'app', replicas: 1 }] }] });

async function repo(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'meshdrill-hostile-'));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

describe('hostile input is refused within budgets', () => {
  let startup: Measured;

  it('(the cost of starting the CLI, for reference)', async () => {
    startup = await measure(['--version'], ROOT);

    expect(startup.code).toBe(0);
  });

  it('a 3.9 MB flow sequence: refused before parsing, in well under a second and under 200 MB', async () => {
    const dir = await repo({ 'topology.yaml': TOPOLOGY, 'big.yaml': `[${Array.from({ length: 1_950_000 }, () => '1').join(',')}]\n` });

    const run = await measure(['validate', '.'], dir);

    expect(run.code).toBe(1);
    expect(run.out).toMatch(/big\.yaml:1:1 file holds about 1,950,00\d YAML nodes; config files are limited to 200,000/);
    expect(run.cpuMs - startup.cpuMs).toBeLessThan(1_000);
    expect(run.maxRssMb).toBeLessThan(200);
  });

  it('nesting a hundred thousand deep: refused before parsing', async () => {
    const dir = await repo({ 'deep.yaml': `${'['.repeat(100_000)}${']'.repeat(100_000)}\n` });

    const run = await measure(['validate', '.'], dir);

    expect(run.code).toBe(1);
    expect(run.out).toContain('deep.yaml:1:1 file nests 100,000 levels deep; config files are limited to 1,000');
    expect(run.maxRssMb).toBeLessThan(200);
  });

  it('a 10,000-deep call chain: validated and checked without overflowing the stack', async () => {
    const services = Array.from({ length: 10_000 }, (_, i) => ({ name: `s${i}`, replicas: 1, ...(i < 9_999 ? { calls: [{ to: `chain/s${i + 1}` }] } : {}) }));
    const dir = await repo({ 'topology.yaml': doc('Topology', 'chain', { entrypoints: [{ service: 'chain/s0', rps: 1 }], namespaces: [{ name: 'chain', services }] }) });

    const validate = await measure(['validate', '.'], dir);
    const check = await measure(['check', '.'], dir);

    expect(validate.out).toContain('valid (1 Topology)');
    expect(validate.code).toBe(0);
    expect(check.out).not.toContain('unexpected error');
    expect(check.code).toBe(0);
  });

  it('symlinks: one inside the repo is followed, one leaving it is refused, a loop ends, a dangling one is reported', async () => {
    const outside = await repo({ 'secret.yaml': doc('SLO', 'outside', { sli: 'success-rate', objective: '>= 99%' }) });
    const dir = await repo({ 'real/topology.yaml': TOPOLOGY });
    await symlink(join(dir, 'real', 'topology.yaml'), join(dir, 'linked.yaml'));
    await symlink(join(outside, 'secret.yaml'), join(dir, 'escape.yaml'));
    await symlink(dir, join(dir, 'real', 'loop'));
    await symlink(join(dir, 'gone.yaml'), join(dir, 'dangling.yaml'));

    const run = await measure(['validate', '.'], dir);

    expect(run.code).toBe(1);
    expect(run.out).toContain('escape.yaml:1:1 a symlink that leaves the config repo');
    expect(run.out).toContain('dangling.yaml:1:1 a symlink that leads nowhere: ENOENT (no such file)');
    expect(run.out).toContain('real/topology.yaml:1:1 warning: the same file as linked.yaml (through a symlink); read once');
    expect(run.out).not.toContain('outside');
  });

  it('a FIFO is refused without being opened (it would hang), and the rest is still validated', async () => {
    const dir = await repo({ 'topology.yaml': TOPOLOGY });
    execFileSync('mkfifo', [join(dir, 'pipe.yaml')]);

    const run = await measure(['validate', '.'], dir);

    expect(run.code).toBe(1);
    expect(run.out).toContain('pipe.yaml:1:1 not a regular file (a FIFO); refused without opening it');
    expect(run.out).not.toContain('topology.yaml:');
  });

  it.skipIf(process.getuid?.() === 0)('an unreadable file is reported with its errno, and the rest is still validated (skipped as root: root reads everything)', async () => {
    const dir = await repo({ 'topology.yaml': TOPOLOGY, 'locked.yaml': TOPOLOGY.replace('shop', 'locked') });
    await chmod(join(dir, 'locked.yaml'), 0o000);

    const run = await measure(['validate', '.'], dir);

    expect(run.code).toBe(1);
    expect(run.out).toContain('locked.yaml:1:1 cannot read it: EACCES (permission denied)');
  });

  it('load: 10000h is a validation error unless the game day says allowLong', async () => {
    const gameday = (extra: Record<string, unknown>) => doc('GameDay', 'long', { ...extra, steps: [{ provision: {} }, { load: { duration: '10000h' } }] });
    const refused = await repo({ 'topology.yaml': TOPOLOGY, 'gameday.yaml': gameday({}) });
    const allowed = await repo({ 'topology.yaml': TOPOLOGY, 'gameday.yaml': gameday({ allowLong: true }) });

    const no = await measure(['validate', '.'], refused);
    const yes = await measure(['validate', '.'], allowed);

    expect(no.code).toBe(1);
    expect(no.out).toContain('spec.steps[1].load.duration: 10000h is over 24 hours of cluster time; set spec.allowLong: true if that is meant');
    expect(no.out).toContain('spec.steps: the steps add up to 416d16h30s of cluster time, over 24 hours');
    expect(yes.code).toBe(0);
  });
});
