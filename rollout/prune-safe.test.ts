import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
});
