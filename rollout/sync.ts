import type { KubeClient, KubeObject } from '../clusters/index.js';

/** An Argo CD Application or Flux Kustomization that applies part of the repo. */
export interface GitOpsOwner {
  kind: 'Application' | 'Kustomization';
  namespace: string;
  name: string;
  /** The repo path it applies, relative to the repository root ('' for the root). */
  path: string;
  /** Where it stands now, in its own words. */
  state: string;
  synced: boolean;
  healthy: boolean;
}

export interface SyncResult {
  outcome: 'synced' | 'no-owner' | 'timeout';
  owners: GitOpsOwner[];
}

const ARGO = 'argoproj.io/v1alpha1';
const FLUX = 'kustomize.toolkit.fluxcd.io/v1';
const FLUX_SOURCE = 'source.toolkit.fluxcd.io/v1';

/** "https://github.com/acme/mesh.git", "git@github.com:acme/mesh", "ssh://git@github.com/acme/mesh" → "github.com/acme/mesh". */
export function normalizeRepoUrl(url: string): string {
  const trimmed = url.trim().replace(/\/+$/, '').replace(/\.git$/, '');
  const scp = /^[\w.-]+@([^:/]+):(.+)$/.exec(trimmed);
  if (scp) return `${scp[1]}/${scp[2]}`.toLowerCase();
  try {
    const u = new URL(trimmed);
    return `${u.hostname}${u.pathname}`.replace(/\/+$/, '').toLowerCase();
  } catch {
    return trimmed.toLowerCase();
  }
}

function relativePath(path: string | undefined): string {
  return (path ?? '').replace(/^\.\/?/, '').replace(/^\/+/, '').replace(/\/+$/, '');
}

function covers(ownerPath: string, file: string): boolean {
  return ownerPath === '' || file === ownerPath || file.startsWith(`${ownerPath}/`);
}

/**
 * Argo CD: synced when status.sync.status is Synced at the revision (status.sync.revision, or one of
 * revisions for a multi-source Application) and status.health.status is Healthy
 * (argo-cd docs: "Sync Status" and "Resource Health").
 */
function argoState(app: KubeObject, revision: string): Pick<GitOpsOwner, 'state' | 'synced' | 'healthy'> {
  const status = (app['status'] ?? {}) as { sync?: { status?: string; revision?: string; revisions?: string[] }; health?: { status?: string } };
  const revisions = [status.sync?.revision, ...(status.sync?.revisions ?? [])].filter((r): r is string => typeof r === 'string');
  const atRevision = revisions.some((r) => r === revision);
  const synced = status.sync?.status === 'Synced' && atRevision;
  const healthy = status.health?.status === 'Healthy';
  return { synced, healthy, state: `sync ${status.sync?.status ?? 'unknown'} at ${revisions[0]?.slice(0, 12) ?? 'no revision'}, health ${status.health?.status ?? 'unknown'}` };
}

/**
 * Flux: applied when status.lastAppliedRevision names the commit ("main@sha1:<sha>", or
 * "main/<sha>" before Flux 2.0) and Ready is True for the current generation (fluxcd.io
 * kustomizations "Status").
 */
function fluxState(ks: KubeObject, revision: string): Pick<GitOpsOwner, 'state' | 'synced' | 'healthy'> {
  const status = (ks['status'] ?? {}) as { lastAppliedRevision?: string; observedGeneration?: number; conditions?: Array<{ type: string; status: string; reason?: string }> };
  const applied = status.lastAppliedRevision ?? '';
  const synced = applied.endsWith(`:${revision}`) || applied.endsWith(`/${revision}`);
  const ready = (status.conditions ?? []).find((c) => c.type === 'Ready');
  const current = status.observedGeneration === undefined || status.observedGeneration === ks.metadata['generation'];
  return { synced, healthy: ready?.status === 'True' && current, state: `applied ${applied || 'nothing yet'}, Ready ${ready?.status ?? 'unknown'}${ready?.reason ? ` (${ready.reason})` : ''}` };
}

async function owners(kube: KubeClient, repoUrl: string, files: string[], revision: string): Promise<GitOpsOwner[]> {
  const repo = normalizeRepoUrl(repoUrl);
  const found: GitOpsOwner[] = [];
  // Either engine may be absent: its kind then does not exist, which is no owner, not an error.
  const list = (apiVersion: string, kind: string) => kube.list(apiVersion, kind).catch((error: Error) => (/404|not found|no matches/i.test(error.message) ? [] : Promise.reject(error)));
  for (const app of await list(ARGO, 'Application')) {
    const spec = (app['spec'] ?? {}) as { source?: { repoURL?: string; path?: string }; sources?: Array<{ repoURL?: string; path?: string }> };
    for (const source of [...(spec.source ? [spec.source] : []), ...(spec.sources ?? [])]) {
      const path = relativePath(source.path);
      if (!source.repoURL || normalizeRepoUrl(source.repoURL) !== repo || !files.some((f) => covers(path, f))) continue;
      found.push({ kind: 'Application', namespace: app.metadata.namespace ?? '', name: app.metadata.name, path, ...argoState(app, revision) });
      break;
    }
  }
  const kustomizations = await list(FLUX, 'Kustomization');
  if (kustomizations.length > 0) {
    const sources = new Map((await list(FLUX_SOURCE, 'GitRepository')).map((g) => [`${g.metadata.namespace}/${g.metadata.name}`, String(((g['spec'] ?? {}) as { url?: string }).url ?? '')]));
    for (const ks of kustomizations) {
      const spec = (ks['spec'] ?? {}) as { path?: string; sourceRef?: { kind?: string; name?: string; namespace?: string } };
      if (spec.sourceRef?.kind !== 'GitRepository') continue;
      const url = sources.get(`${spec.sourceRef.namespace ?? ks.metadata.namespace}/${spec.sourceRef.name}`);
      const path = relativePath(spec.path);
      if (!url || normalizeRepoUrl(url) !== repo || !files.some((f) => covers(path, f))) continue;
      found.push({ kind: 'Kustomization', namespace: ks.metadata.namespace ?? '', name: ks.metadata.name, path, ...fluxState(ks, revision) });
    }
  }
  return found;
}

/**
 * After a stage change merges, waits until every Argo CD Application and Flux Kustomization that
 * applies a changed file reports the merge commit synced and healthy, read through the cluster
 * API: the next stage is measured on what was merged, not on what was there before.
 */
export async function waitForGitOpsSync(kube: KubeClient, options: { repoUrl: string; revision: string; files: string[]; timeoutMs: number; pollMs: number; now: () => number; sleep: (ms: number) => Promise<void> }): Promise<SyncResult> {
  const deadline = options.now() + options.timeoutMs;
  for (;;) {
    const found = await owners(kube, options.repoUrl, options.files, options.revision);
    if (found.length === 0) return { outcome: 'no-owner', owners: [] };
    if (found.every((o) => o.synced && o.healthy)) return { outcome: 'synced', owners: found };
    if (options.now() + options.pollMs > deadline) return { outcome: 'timeout', owners: found };
    await options.sleep(options.pollMs);
  }
}
