import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, watch, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClient } from '../clusters/kube/index.js';
import type { KubeClient } from '../clusters/kube/types.js';
import type { CliIO } from '../harness/cli/io.js';
import { runCli } from '../harness/cli/main.js';

const ROOT = join(import.meta.dirname, '..');
// The scenarios' storefront: four services in three namespaces keep each of the 21 runs short;
// what is journalled and reverted is the same as for a bigger mesh.
const STOREFRONT = join(ROOT, 'examples', 'scenarios');
const KILLS = 20;

/** The kinds a game day writes, and what of them a person would call the cluster's state. */
const KINDS: Array<[string, string]> = [
  ['v1', 'Namespace'],
  ['v1', 'Service'],
  ['v1', 'ConfigMap'],
  ['v1', 'Secret'],
  ['v1', 'ServiceAccount'],
  ['apps/v1', 'Deployment'],
  ['apps/v1', 'StatefulSet'],
  ['apps/v1', 'DaemonSet'],
  ['networking.k8s.io/v1', 'NetworkPolicy'],
  ['admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration'],
  ['admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration'],
  ['apiextensions.k8s.io/v1', 'CustomResourceDefinition'],
];

async function snapshot(kube: KubeClient): Promise<string[]> {
  const out: string[] = [];
  for (const [apiVersion, kind] of KINDS) {
    for (const o of await kube.list(apiVersion, kind)) {
      const { status: _status, metadata, ...rest } = o;
      out.push(JSON.stringify({ kind, name: `${metadata.namespace ?? ''}/${metadata.name}`, labels: metadata.labels ?? {}, annotations: metadata.annotations ?? {}, spec: rest['spec'] ?? null, data: rest['data'] ?? null }));
    }
  }
  return out.sort();
}

/**
 * Kill points as journal lines: a seeded stream spread over a whole run's journal, so early
 * (install), middle (faults) and late (teardown) points all occur, whatever the machine's speed.
 */
function killPoints(count: number, lines: number): number[] {
  let state = 12345;
  return Array.from({ length: count }, (_, i) => {
    state = (state * 16807) % 2147483647;
    return Math.max(1, Math.round(((i + state / 2147483647) / count) * lines));
  });
}

async function lineCount(path: string): Promise<number> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l.trim()).length;
}

/**
 * Resolves with what `check` finds in a directory once it finds something, re-checking on every
 * change in it (inotify), or with undefined once the process has exited: an event, not a timer.
 */
async function whenDir<T>(dir: string, check: () => Promise<T | undefined>, exited: Promise<unknown>): Promise<T | undefined> {
  await mkdir(dir, { recursive: true });
  const stop = new AbortController();
  const changes = watch(dir, { signal: stop.signal })[Symbol.asyncIterator]();
  const ended = exited.then(() => 'exited' as const);
  try {
    for (;;) {
      const found = await check();
      if (found !== undefined) return found;
      const next = await Promise.race([changes.next(), ended]);
      if (next === 'exited') return check();
    }
  } finally {
    stop.abort();
    await changes.next().catch(() => undefined);
  }
}

function start(args: string[], cwd: string): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'harness', 'bin.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  void cwd;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited };
}

const quiet: CliIO = { stdout: () => undefined, stderr: () => undefined, env: {}, isTTY: false, cwd: ROOT };

describe('a game day killed with SIGKILL, then `meshdrill cleanup`', () => {
  let server: ChildProcess | undefined;
  let dir = '';
  let kubeconfigPath = '';
  let kube: KubeClient;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshdrill-crash-'));
    await cp(STOREFRONT, join(dir, 'repo'), { recursive: true, filter: (src) => !/\/(cert-rotation-failure|control-plane-ha|regional-failover|regions)\.yaml$/.test(src) });
    await writeFile(
      join(dir, 'repo', 'gameday.yaml'),
      JSON.stringify({
        apiVersion: 'meshdrill.dev/v1alpha1',
        kind: 'GameDay',
        metadata: { name: 'crash' },
        spec: {
          plan: 'storefront-mesh',
          steps: [
            { provision: {} },
            { install: { certLifetime: '1h' } },
            { deploy: {} },
            { stage: { to: 1 } },
            { fault: { type: 'ca-loss', variant: 'root-replaced', duration: '10m' } },
            { fault: { type: 'control-plane-partition', namespaces: ['web', 'shop'], duration: '10m' } },
            { fault: { type: 'node-loss', nodes: 1, duration: '10m' } },
            { fault: { type: 'ca-loss', variant: 'secret-deleted' } },
            { wait: '5m' },
          ],
        },
      }),
    );
    kubeconfigPath = join(dir, 'kubeconfig');
    const serve = start(['sim', 'serve', '--time', 'virtual', '--kubeconfig', kubeconfigPath], dir);
    server = serve.child;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`sim serve did not start: ${out}`)), 30_000);
      serve.child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('serving at')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    kube = createKubeClient(await readFile(kubeconfigPath, 'utf8'));
  });

  afterAll(() => {
    server?.kill('SIGKILL');
  });

  it(`leaves the cluster exactly as before the run, at ${KILLS} kill points`, async () => {
    const before = await snapshot(kube);
    const journalDir = join(dir, 'journal');
    const args = ['gameday', 'run', join(dir, 'repo', 'gameday.yaml'), '--kubeconfig', kubeconfigPath, '--journal-dir', journalDir, '--out', join(dir, 'out'), '--log-level', 'silent'];

    // One whole run first: how long its journal grows sets the range of kill points; it must clean up after itself.
    // A run that ends cleanly removes its journal: its length is watched while it grows.
    const whole = start(args, dir);
    let lines = 0;
    const longest = async () => {
      for (const name of (await readdir(journalDir)).filter((n) => n.endsWith('.jsonl'))) lines = Math.max(lines, await lineCount(join(journalDir, name)));
      return undefined;
    };
    await whenDir(journalDir, longest, whole.exited);
    expect(await whole.exited).toBe(0);
    expect(await readdir(journalDir)).toEqual([]);
    expect(lines).toBeGreaterThan(50);
    expect(await snapshot(kube)).toEqual(before);

    const mismatches: string[] = [];
    for (const [i, point] of killPoints(KILLS, lines).entries()) {
      const run = start(args, dir);
      // Each run's journal is the only one in the directory: kill once it holds `point` lines.
      const journal = async () => {
        const [name] = (await readdir(journalDir)).filter((n) => n.endsWith('.jsonl'));
        return name !== undefined && (await lineCount(join(journalDir, name))) >= point ? true : undefined;
      };
      await whenDir(journalDir, journal, run.exited);
      run.child.kill('SIGKILL');
      await run.exited;
      const errors: string[] = [];
      const code = await runCli(['cleanup', '--journal-dir', journalDir, '--kubeconfig', kubeconfigPath], { ...quiet, stderr: (t) => errors.push(t) });
      const after = await snapshot(kube);
      if (code !== 0 || JSON.stringify(after) !== JSON.stringify(before)) {
        mismatches.push(`kill ${i + 1} at journal line ${point} of ${lines}: cleanup exit ${code} ${errors.join('')}; ${after.filter((x) => !before.includes(x)).slice(0, 3).join(' | ')} / missing ${before.filter((x) => !after.includes(x)).slice(0, 3).join(' | ')}`);
      }
      await rm(journalDir, { recursive: true, force: true });
    }

    expect(mismatches).toEqual([]);
  }, 600_000);

  it('on SIGTERM reverts what it did and exits 143, leaving nothing for cleanup', async () => {
    const before = await snapshot(kube);
    const journalDir = join(dir, 'journal-term');
    const run = start(['gameday', 'run', join(dir, 'repo', 'gameday.yaml'), '--kubeconfig', kubeconfigPath, '--journal-dir', journalDir, '--out', join(dir, 'out-term')], dir);
    let stderr = '';
    let asked = false;
    run.child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      // Once the first fault is in, ask the run to stop, once.
      if (!asked && stderr.includes('injected ca-loss')) asked = run.child.kill('SIGTERM');
    });

    const code = await run.exited;
    const cleanup: string[] = [];
    await runCli(['cleanup', '--journal-dir', journalDir, '--kubeconfig', kubeconfigPath], { ...quiet, stdout: (t) => cleanup.push(t) });

    expect(code).toBe(143);
    expect(stderr).toContain('aborting: interrupted (SIGTERM); reverting every fault now');
    expect(cleanup.join('')).toBe(`nothing to clean up: no pending undos in ${journalDir}\n`);
    expect(await snapshot(kube)).toEqual(before);
  });
});
