import { describe, expect, it } from 'vitest';
import { captureIO, runCli } from '../../test/helpers/cli.js';
import { ConfigRepo, KUSTOMIZE_SHOP } from '../../test/helpers/config-repos.js';
import { kubectlAvailable } from '../../test/helpers/kubectl.js';

// `check` on a repo laid out as platform teams lay theirs out (test/helpers/config-repos.ts):
// read as the GitOps engine applies it, judged by the change, pointed at the deciding line.
const hasKubectl = await kubectlAvailable();

async function check(repo: ConfigRepo, ...args: string[]) {
  const io = captureIO(repo.dir);
  const code = await runCli(['check', '.', ...args], io);
  return { code, out: io.out.join(''), err: io.err.join('') };
}

const STRICT = KUSTOMIZE_SHOP['base/peer-authentication.yaml']!.replace('PERMISSIVE', 'STRICT');

describe.skipIf(!hasKubectl)('meshdrill check on a kustomize repo', () => {
  it('reads it as kustomize builds it: the overlay\'s namespace, values and CI files ignored with a count, each object at its source line', async () => {
    const repo = await ConfigRepo.create({ ...KUSTOMIZE_SHOP, 'base/peer-authentication.yaml': STRICT });

    const { code, out, err } = await check(repo);

    expect(err).toBe('');
    expect(code).toBe(1);
    // The PeerAuthentication has no namespace in its file; the overlay puts it in books, where
    // legacy/cron (unmeshed) calls stock. The finding points at `mode:` in the base file.
    expect(out).toContain('base/peer-authentication.yaml:7:5 error MD101 strict-with-plaintext-callers: books is STRICT, but 2 callers are not meshed: legacy/cron → books/stock, outside → books/front');
    expect(out).toContain('note: 2 YAML documents are not Kubernetes objects (no apiVersion and kind), ignored: charts/values.yaml, ci/lint.yaml');
    expect(out).toContain('note: rendered with kustomize (kubectl kustomize): overlays/prod');
    expect(out).toMatch(/note: argocd\/bookshop\.yaml:1 Application\/argocd\/bookshop: kept as is/);
  });

  it('judges the change, not the tree: a comment-only change passes with an existing finding shown', async () => {
    const repo = await ConfigRepo.create({ ...KUSTOMIZE_SHOP, 'base/peer-authentication.yaml': STRICT });
    await repo.commit('a comment', { 'base/peer-authentication.yaml': `# books is STRICT; legacy is next.\n${STRICT}` });

    const { code, out } = await check(repo, '--base', 'HEAD~1', '--head', 'HEAD');

    expect(out).toContain('meshdrill check: 0 errors, 0 warnings (and 3 existing on the base), 0 calls broken by the change');
    expect(out).toContain('base/peer-authentication.yaml:8:5 existing error (on the base too, not blocking) MD101');
    expect(out).toContain('no call changed its outcome');
    expect(code).toBe(0);
  });

  it('blocks the change that makes the finding: PERMISSIVE to STRICT in the base', async () => {
    const repo = await ConfigRepo.create(KUSTOMIZE_SHOP);
    await repo.commit('books STRICT', { 'base/peer-authentication.yaml': STRICT });

    const { code, out } = await check(repo, '--base', 'HEAD~1', '--head', 'HEAD');

    expect(code).toBe(1);
    expect(out).toContain('base/peer-authentication.yaml:7:5 error MD101');
    expect(out).toContain('BROKEN legacy/cron → books/stock: ok → failing (0% success)');
  });

  it('says when two overlays render one object, and checks the one it is told to', async () => {
    const staging = KUSTOMIZE_SHOP['overlays/prod/kustomization.yaml']!;
    const repo = await ConfigRepo.create({ ...KUSTOMIZE_SHOP, 'overlays/staging/kustomization.yaml': staging });

    const both = await check(repo);
    const one = await check(repo, '--kustomize', 'overlays/staging');

    expect(both.code).toBe(2);
    expect(both.err).toContain('Namespace books is defined twice: base/namespace.yaml:1 (kustomize overlays/prod) and base/namespace.yaml:1 (kustomize overlays/staging)');
    expect(both.err).toContain('--kustomize <dir> or CheckConfig spec.kustomize');
    expect(one.err).toBe('');
    expect(one.out).toContain('note: rendered with kustomize (kubectl kustomize): overlays/staging');
  });

  it('names a Helm chart it does not render, and a kustomization kustomize cannot build', async () => {
    const repo = await ConfigRepo.create({ ...KUSTOMIZE_SHOP, 'charts/bookshop/Chart.yaml': 'apiVersion: v2\nname: bookshop\nversion: 0.1.0\n', 'charts/bookshop/templates/deploy.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n' });
    const helm = await check(repo);
    await repo.write({ 'overlays/prod/kustomization.yaml': 'resources:\n  - ../../missing\n' });
    const broken = await check(repo);

    expect(helm.out).toContain('note: charts/bookshop: a Helm chart; meshdrill does not render Helm charts, so its objects were not judged');
    expect(broken.code).toBe(2);
    expect(broken.err).toMatch(/kustomize could not build overlays\/prod: .*missing/);
  });
});
