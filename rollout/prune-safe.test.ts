import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { captureIO, runCli } from '../test/helpers/cli.js';
import { kubectlAvailable } from '../test/helpers/kubectl.js';

// The example repo laid out for Flux's kustomize-controller or Argo CD: a kustomization at the
// root that lists what the engine applies. Every stage rendered, then a revert: what kustomize
// builds must never lose a Namespace (the engine would prune it, and every workload in it).
const run = promisify(execFile);
const SHOP = join(import.meta.dirname, '..', 'examples', 'shop');
const hasKubectl = await kubectlAvailable();

async function build(dir: string): Promise<{ namespaces: string[]; text: string }> {
  const { stdout } = await run('kubectl', ['kustomize', dir]);
  const docs = parseAllDocuments(stdout);
  const objects = (Array.isArray(docs) ? docs : []).map((d) => d.toJS() as { kind: string; metadata: { name: string } });
  return { namespaces: objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name).sort(), text: stdout };
}

/**
 * What an Argo CD Application of a plain directory applies (spec.source.directory: recurse true,
 * with meshdrill's own documents excluded): every *.yaml, *.yml and *.json under the path, as the
 * repo server's directory mode reads them.
 */
async function argoDirectory(dir: string, exclude: string[]): Promise<{ namespaces: string[]; text: string }> {
  const files = (await readdir(dir, { recursive: true })).map((f) => String(f)).filter((f) => /\.(ya?ml|json)$/.test(f) && !f.startsWith('.') && !exclude.includes(relative('.', f))).sort();
  const texts = await Promise.all(files.map((f) => readFile(join(dir, f), 'utf8')));
  const objects = texts.flatMap((t) => parseAllDocuments(t).map((d) => d.toJS() as { kind?: string; metadata?: { name: string } } | null)).filter((o): o is { kind: string; metadata: { name: string } } => !!o?.kind);
  return { namespaces: objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name).sort(), text: texts.join('\n---\n') };
}

async function render(dir: string, stage: number): Promise<void> {
  const io = captureIO(dir);
  expect(await runCli(['rollout', 'render', '.', '--stage', String(stage)], io), io.err.join('')).toBe(0);
}

describe.skipIf(!hasKubectl)('rollout render in a repo kustomize builds (Flux, Argo CD)', () => {
  it('registers its files in the kustomization, and no rendered stage or revert loses a Namespace', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-flux-'));
    await cp(SHOP, dir, { recursive: true });
    await writeFile(join(dir, 'kustomization.yaml'), 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - manifests/namespaces.yaml\n');

    const seen: string[][] = [(await build(dir)).namespaces];
    for (const stage of [2, 5, 3, 0]) {
      await render(dir, stage);
      seen.push((await build(dir)).namespaces);
    }

    for (let i = 1; i < seen.length; i++) for (const ns of seen[i - 1]!) expect(seen[i], `after render ${i}`).toContain(ns);
    expect(await readFile(join(dir, 'kustomization.yaml'), 'utf8')).toBe('apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - manifests/namespaces.yaml\n  - meshdrill/shop-migration\n');
    const reverted = await build(dir);
    expect(reverted.text).not.toContain('kind: PeerAuthentication');
    expect(reverted.text).not.toContain('istio-injection: enabled');
    expect(reverted.text).toContain('kustomize.toolkit.fluxcd.io/prune: disabled');
  });

  it('in an Argo CD directory application (recursive, meshdrill\'s documents excluded), no rendered stage or revert loses a Namespace', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-argo-'));
    await cp(SHOP, dir, { recursive: true });
    const ownDocuments = ['topology.yaml', 'rollout-plan.yaml', 'slos.yaml', 'gameday.yaml', 'check.yaml', 'cluster.yaml', 'suite.yaml'];

    const seen: string[][] = [(await argoDirectory(dir, ownDocuments)).namespaces];
    for (const stage of [1, 4, 5, 2, 0]) {
      await render(dir, stage);
      seen.push((await argoDirectory(dir, ownDocuments)).namespaces);
    }

    for (let i = 1; i < seen.length; i++) for (const ns of seen[i - 1]!) expect(seen[i], `after render ${i}`).toContain(ns);
    expect(seen.at(-1)!.length).toBeGreaterThanOrEqual(seen[0]!.length);
    const reverted = await argoDirectory(dir, ownDocuments);
    expect(reverted.text).not.toContain('kind: PeerAuthentication');
    expect(reverted.text).toContain('argocd.argoproj.io/sync-options: Prune=false,Delete=false');
    // No kustomization file appears where Argo would try to apply it as an object.
    expect(reverted.text).not.toContain('kind: Kustomization');
  });
});
