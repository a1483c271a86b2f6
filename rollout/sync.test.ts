import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { createKubeClient, startSimCluster, type KubeObject, type SimCluster } from '../clusters/index.js';
import { normalizeRepoUrl, waitForGitOpsSync } from './sync.js';

const CRDS = join(import.meta.dirname, '..', 'test', 'fixtures', 'gitops', 'crds.yaml');
const MERGE = 'f00dfeed'.repeat(5);
const sims: SimCluster[] = [];
afterEach(async () => {
  for (const sim of sims.splice(0)) await sim.close();
});

async function cluster(withEngines: boolean) {
  const sim = await startSimCluster();
  sims.push(sim);
  const kube = createKubeClient(sim.kubeconfig);
  if (withEngines) for (const doc of parseAllDocuments(await readFile(CRDS, 'utf8'))) await kube.apply(doc.toJS() as KubeObject);
  for (const name of ['argocd', 'flux-system']) await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  /** What the engine reports: written to the status as its controller would. */
  const report = (apiVersion: string, kind: string, namespace: string, name: string, status: Record<string, unknown>) => {
    const [group, version] = apiVersion.split('/') as [string, string];
    const type = sim.api.types.all().find((t) => t.group === group && t.version === version && t.kind === kind)!;
    const current = sim.api.get(type, namespace, name);
    const subresource = type.subresources.includes('status') ? 'status' : undefined;
    sim.api.update(type, namespace, name, { ...current, status }, subresource ? { subresource } : {});
  };
  return { sim, kube, report };
}

const clock = () => {
  let now = 0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
};

describe('rollout/sync: waiting for the GitOps engine to apply a merge', () => {
  it('waits for the Argo CD Application that applies the changed path to report the merge commit synced and healthy', async () => {
    const { kube, report } = await cluster(true);
    await kube.apply({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: 'mesh', namespace: 'argocd' }, spec: { source: { repoURL: 'https://github.com/Acme/mesh-config.git', path: 'manifests', targetRevision: 'main' } } });
    await kube.apply({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: 'other-path', namespace: 'argocd' }, spec: { source: { repoURL: 'https://github.com/acme/mesh-config', path: 'apps' } } });
    await kube.apply({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: 'other-repo', namespace: 'argocd' }, spec: { source: { repoURL: 'https://github.com/acme/else', path: 'manifests' } } });
    report('argoproj.io/v1alpha1', 'Application', 'argocd', 'mesh', { sync: { status: 'Synced', revision: 'ab'.repeat(20) }, health: { status: 'Healthy' } });
    const time = clock();
    const polls: number[] = [];
    // The engine notices the merge on the second poll, and the rollout settles on the third.
    const sleep = async (ms: number) => {
      time.advance(ms);
      polls.push(time.now());
      if (polls.length === 1) report('argoproj.io/v1alpha1', 'Application', 'argocd', 'mesh', { sync: { status: 'Synced', revision: MERGE }, health: { status: 'Progressing' } });
      if (polls.length === 2) report('argoproj.io/v1alpha1', 'Application', 'argocd', 'mesh', { sync: { status: 'Synced', revision: MERGE }, health: { status: 'Healthy' } });
    };

    const result = await waitForGitOpsSync(kube, { repoUrl: 'git@github.com:acme/mesh-config.git', revision: MERGE, files: ['manifests/namespaces.yaml'], timeoutMs: 600_000, pollMs: 15_000, now: time.now, sleep });

    expect(result.outcome).toBe('synced');
    expect(result.owners.map((o) => `${o.kind} ${o.namespace}/${o.name} ${o.path}: ${o.state}`)).toEqual([`Application argocd/mesh manifests: sync Synced at ${MERGE.slice(0, 12)}, health Healthy`]);
    expect(polls).toEqual([15_000, 30_000]);
  });

  it('reads a Flux Kustomization through its GitRepository, and times out naming what it saw when the merge never applies', async () => {
    const { kube, report } = await cluster(true);
    await kube.apply({ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', metadata: { name: 'mesh', namespace: 'flux-system' }, spec: { url: 'ssh://git@github.com/acme/mesh-config', ref: { branch: 'main' } } });
    await kube.apply({ apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization', metadata: { name: 'mesh', namespace: 'flux-system' }, spec: { path: './', prune: true, sourceRef: { kind: 'GitRepository', name: 'mesh' } } });
    report('kustomize.toolkit.fluxcd.io/v1', 'Kustomization', 'flux-system', 'mesh', { lastAppliedRevision: `main@sha1:${'ab'.repeat(20)}`, conditions: [{ type: 'Ready', status: 'False', reason: 'ReconciliationFailed' }] });
    const time = clock();

    const stuck = await waitForGitOpsSync(kube, { repoUrl: 'https://github.com/acme/mesh-config', revision: MERGE, files: ['meshdrill/shop/mtls.yaml'], timeoutMs: 60_000, pollMs: 15_000, now: time.now, sleep: async (ms) => void time.advance(ms) });
    report('kustomize.toolkit.fluxcd.io/v1', 'Kustomization', 'flux-system', 'mesh', { lastAppliedRevision: `main@sha1:${MERGE}`, conditions: [{ type: 'Ready', status: 'True', reason: 'ReconciliationSucceeded' }] });
    const applied = await waitForGitOpsSync(kube, { repoUrl: 'https://github.com/acme/mesh-config', revision: MERGE, files: ['meshdrill/shop/mtls.yaml'], timeoutMs: 60_000, pollMs: 15_000, now: time.now, sleep: async (ms) => void time.advance(ms) });

    expect(stuck.outcome).toBe('timeout');
    expect(stuck.owners[0]!.state).toBe(`applied main@sha1:${'ab'.repeat(20)}, Ready False (ReconciliationFailed)`);
    expect(time.now()).toBe(60_000);
    expect(applied.outcome).toBe('synced');
  });

  it('finds no owner on a cluster without either engine, or when none applies the changed files', async () => {
    const bare = await cluster(false);
    const time = clock();

    const result = await waitForGitOpsSync(bare.kube, { repoUrl: 'https://github.com/acme/mesh-config', revision: MERGE, files: ['manifests/a.yaml'], timeoutMs: 60_000, pollMs: 15_000, now: time.now, sleep: async (ms) => void time.advance(ms) });

    expect(result).toEqual({ outcome: 'no-owner', owners: [] });
    expect(time.now()).toBe(0);
  });

  it.each([
    ['https://github.com/acme/mesh.git', 'github.com/acme/mesh'],
    ['git@github.com:acme/mesh.git', 'github.com/acme/mesh'],
    ['ssh://git@github.com/acme/mesh/', 'github.com/acme/mesh'],
    ['https://x-access-token@GitHub.com/Acme/Mesh', 'github.com/acme/mesh'],
  ])('normalizes %s to %s', (url, expected) => {
    expect(normalizeRepoUrl(url)).toBe(expected);
  });
});
