import { chmod, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exec } from '../../clusters/index.js';
import { readRepoManifests } from './repo.js';

// A Helm chart in the repo, rendered by `helm template` — here a fake helm that records its
// arguments and prints what helm prints for such a chart (documents headed "# Source: …").
const RENDERED = `---
# Source: bookshop/templates/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: bookshop
---
# Source: bookshop/templates/peer-authentication.yaml
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: default
  namespace: books
spec:
  mtls:
    mode: STRICT
`;

async function fakeHelm(dir: string): Promise<string> {
  const path = join(dir, 'helm');
  await writeFile(path, `#!/bin/sh\nprintf '%s\\n' "$@" > "${join(dir, 'helm.args')}"\ncat <<'EOF'\n${RENDERED}EOF\n`);
  await chmod(path, 0o755);
  return path;
}

describe('readRepoManifests with Helm charts', () => {
  it('renders a chart with helm template and points each object at its template', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-helm-'));
    const repo = join(dir, 'repo');
    await mkdir(join(repo, 'charts', 'bookshop', 'templates'), { recursive: true });
    await writeFile(join(repo, 'charts', 'bookshop', 'Chart.yaml'), 'apiVersion: v2\nname: bookshop\nversion: 0.1.0\n');
    await writeFile(join(repo, 'charts', 'bookshop', 'templates', 'peer-authentication.yaml'), 'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: {{ .Release.Namespace }}\n');
    const helm = await fakeHelm(dir);
    const run: typeof exec = (binary, args, options) => exec(binary === 'helm' ? helm : binary, args, options);

    const read = await readRepoManifests(repo, [join(repo, 'charts', 'bookshop', 'Chart.yaml'), join(repo, 'charts', 'bookshop', 'templates', 'peer-authentication.yaml')], { run });

    expect((await readFile(join(dir, 'helm.args'), 'utf8')).split('\n').filter(Boolean)).toEqual(['template', 'bookshop', join(repo, 'charts', 'bookshop'), '--namespace', 'default']);
    expect(read.manifests.map((m) => `${m.file}:${m.line} ${m.object.kind} ${m.renderedBy}`)).toEqual(['charts/bookshop/templates/serviceaccount.yaml:1 ServiceAccount helm charts/bookshop', 'charts/bookshop/templates/peer-authentication.yaml:1 PeerAuthentication helm charts/bookshop']);
    expect(read.notes).toContain('rendered with helm template: charts/bookshop (2 objects, release "bookshop" in namespace default, the chart\'s own values; lines point at each template\'s first line)');
  });

  it('without helm names the chart and judges none of it, and says why helm failed when it does', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-helm-'));
    await mkdir(join(dir, 'chart'), { recursive: true });
    await writeFile(join(dir, 'chart', 'Chart.yaml'), 'apiVersion: v2\nname: x\nversion: 0.1.0\n');
    const missing: typeof exec = (binary, args, options) => exec(binary === 'helm' ? join(dir, 'no-such-helm') : binary, args, options);
    const failing: typeof exec = async () => ({ code: 1, stdout: '', stderr: 'Error: parse error at (x/templates/a.yaml:3): unexpected "}"\n' });

    const without = await readRepoManifests(dir, [join(dir, 'chart', 'Chart.yaml')], { run: missing });
    const broken = await readRepoManifests(dir, [join(dir, 'chart', 'Chart.yaml')], { run: failing }).catch((e: Error) => e.message);

    expect(without.manifests).toEqual([]);
    expect(without.notes).toContain('chart: a Helm chart, not rendered: helm is not on PATH (install Helm ≥ 3, or render the chart into the repo), so its objects were not judged');
    expect(broken).toBe('helm template could not render chart: Error: parse error at (x/templates/a.yaml:3): unexpected "}"');
  });
});
