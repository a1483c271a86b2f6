import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { documentsOfKind, hasErrors, loadConfig, loadConfigText, renderDiagnostic } from './index.js';
import { ConfigError } from '../../core/index.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('harness/config/load', () => {
  it('loads the example repo as typed documents with defaults applied', async () => {
    const repo = await loadConfig('examples/shop', { cwd: ROOT });

    expect(repo.diagnostics).toEqual([]);
    const [plan] = documentsOfKind(repo, 'RolloutPlan');
    expect(plan?.data.spec.stages.map((s) => s.name)).toEqual(['frontend-canary', 'catalog-accounts', 'checkout-payments', 'ingress', 'strict-mtls']);
    expect(plan?.data.spec.stages.at(-1)?.mtls).toBe('STRICT');
    expect(plan?.data.spec.stages[0]?.gates[1]?.consecutiveSuccessLimit).toBe(1);
    const [topology] = documentsOfKind(repo, 'Topology');
    const services = topology?.data.spec.namespaces.flatMap((ns) => ns.services) ?? [];
    expect(topology?.data.spec.namespaces).toHaveLength(8);
    expect(services.length).toBeGreaterThanOrEqual(30);
    expect(repo.foreign.map((f) => `${f.kind}@${f.file}:${f.line}`)).toEqual([
      'Namespace@examples/shop/manifests/namespaces.yaml:2',
      'Namespace@examples/shop/manifests/namespaces.yaml:9',
    ]);
  });

  it('reads several documents from one file and points at the right one', () => {
    const text = [
      'apiVersion: meshdrill.dev/v1alpha1',
      'kind: Cluster',
      'metadata: {name: a}',
      'spec: {}',
      '---',
      'apiVersion: meshdrill.dev/v1alpha1',
      'kind: Cluster',
      'metadata: {name: b}',
      'spec: {nodes: 0}',
    ].join('\n');

    const repo = loadConfigText('clusters.yaml', text);

    expect(repo.documents.map((d) => d.name)).toEqual(['a']);
    expect(repo.diagnostics.map(renderDiagnostic)).toEqual(['clusters.yaml:9:15 spec.nodes: expected a value of at least 1; found 0 (a number)']);
  });

  it('keeps other manifests aside without complaint in a directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-repo-'));
    await writeFile(join(dir, 'deploy.yaml'), 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n');
    await writeFile(join(dir, 'cluster.yml'), 'apiVersion: meshdrill.dev/v1alpha1\nkind: Cluster\nmetadata: {name: lab}\nspec: {}\n');

    const repo = await loadConfig(dir);

    expect(hasErrors(repo)).toBe(false);
    expect(repo.documents.map((d) => d.kind)).toEqual(['Cluster']);
    expect(repo.foreign).toMatchObject([{ apiVersion: 'apps/v1', kind: 'Deployment', line: 1 }]);
  });

  it('keeps other tools\' YAML (a kustomization, Helm values) aside in a directory, but not a meshdrill kind without apiVersion', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-repo-'));
    await writeFile(join(dir, 'kustomization.yml'), 'resources: [deploy.yaml]\n');
    await writeFile(join(dir, 'values.yaml'), 'replicaCount: 2\n');
    await writeFile(join(dir, 'cluster.yml'), 'kind: Cluster\nmetadata: {name: lab}\nspec: {}\n');

    const repo = await loadConfig(dir);
    const direct = await loadConfig(join(dir, 'values.yaml'));

    expect(repo.foreign).toHaveLength(2);
    expect(repo.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.file}:${d.line} ${d.message}`)).toEqual([`${join(dir, 'cluster.yml')}:1 missing required field apiVersion; expected "meshdrill.dev/v1alpha1"`]);
    expect(hasErrors(direct)).toBe(true);
  });

  it('throws a ConfigError only for a path that does not exist', async () => {
    await expect(loadConfig('no/such/dir', { cwd: ROOT })).rejects.toThrow(new ConfigError('no/such/dir: no such file or directory'));
  });

  it('warns, without failing, when a stage meshes more namespaces than the plan allows', () => {
    const text = [
      'apiVersion: meshdrill.dev/v1alpha1',
      'kind: RolloutPlan',
      'metadata: {name: p}',
      'spec:',
      '  mesh: {name: istio}',
      '  maxNamespacesPerStage: 1',
      '  stages:',
      '    - {name: big, namespaces: [a, b]}',
    ].join('\n');

    const repo = loadConfigText('plan.yaml', text);

    expect(hasErrors(repo)).toBe(false);
    expect(repo.diagnostics.map(renderDiagnostic)).toEqual([
      'plan.yaml:8:31 warning: spec.stages[0].namespaces: meshes 2 namespaces; the plan allows at most 1 per stage',
    ]);
  });
});
