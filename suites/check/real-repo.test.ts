import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { captureIO, runCli } from '../../test/helpers/cli.js';
import { ConfigRepo, KUSTOMIZE_SHOP, LINKERD_VOTES, votingPolicy } from '../../test/helpers/config-repos.js';
import { kubectlAvailable } from '../../test/helpers/kubectl.js';

// `check` on a repo laid out as platform teams lay theirs out (test/helpers/config-repos.ts):
// read as the GitOps engine applies it, judged by the change, pointed at the deciding line.
const hasKubectl = await kubectlAvailable();
const helmOnPath = spawnSync('helm', ['version', '--short']).status === 0;

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

  it('reads only what CheckConfig include/exclude globs leave', async () => {
    const config = 'apiVersion: meshdrill.dev/v1alpha1\nkind: CheckConfig\nmetadata: {name: repo}\nspec:\n  exclude: [ci/**, "charts/**", argocd/]\n';
    const repo = await ConfigRepo.create({ ...KUSTOMIZE_SHOP, 'meshdrill/check.yaml': config });

    const { out, err } = await check(repo);

    expect(err).toBe('');
    expect(out).not.toContain('YAML documents are not Kubernetes objects');
    expect(out).not.toContain('Application/argocd/bookshop');
    expect(out).toContain('note: rendered with kustomize (kubectl kustomize): overlays/prod');
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

  it('warns when a change widens access: deleting the ALLOW lets the plaintext cron job in', async () => {
    const allow = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: stock-callers
spec:
  selector:
    matchLabels: {app: stock}
  action: ALLOW
  rules:
    - from:
        - source:
            principals: [cluster.local/ns/books/sa/catalog]
`;
    const resources = KUSTOMIZE_SHOP['base/kustomization.yml']!;
    const repo = await ConfigRepo.create({ ...KUSTOMIZE_SHOP, 'base/kustomization.yml': `${resources}  - stock-callers.yaml\n`, 'base/stock-callers.yaml': allow });
    await repo.commit('drop the ALLOW', { 'base/kustomization.yml': resources });
    await repo.git('rm', '-q', 'base/stock-callers.yaml');
    await repo.commit('drop the ALLOW file', {});

    const { code, out } = await check(repo, '--base', 'HEAD~2', '--head', 'HEAD');

    expect(out).toContain('legacy/cron → books/stock: failing (0% success) → ok');
    expect(out).toContain('base/stock-callers.yaml:8:3 warning MD112 access-widened: legacy/cron → books/stock was refused on the base and is allowed on the head, opened by AuthorizationPolicy books/stock-callers spec.action (deleted)');
    expect(code).toBe(0);
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

    // This machine has no helm (the fake-helm case is in repo.test.ts).
    if (!helmOnPath) expect(helm.out).toContain('note: charts/bookshop: a Helm chart, not rendered: helm is not on PATH');
    expect(broken.code).toBe(2);
    expect(broken.err).toMatch(/kustomize could not build overlays\/prod: .*missing/);
  });
});

describe.skipIf(!hasKubectl)('meshdrill check on a Linkerd repo with no Topology', () => {
  const withPolicy = (identity: string) => ({ 'policy.yaml': votingPolicy(identity), 'kustomization.yml': `${LINKERD_VOTES['kustomization.yml']}  - policy.yaml\n` });

  it('makes the topology from the workloads and their meshdrill.dev/calls, on Linkerd, and says so', async () => {
    const repo = await ConfigRepo.create(LINKERD_VOTES);

    const { code, out, err } = await check(repo);

    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain('note: no Topology document: the topology comes from the repo\'s workloads (2 services in 1 namespace; entrypoints, at meshdrill.dev/entrypoint-rps or 10 rps: votes/web 40 rps)');
    expect(out).toContain('note: calls from meshdrill.dev/calls: votes/web → votes/voting');
  });

  it('with --prometheus takes the calls the mesh\'s telemetry saw, and says where each came from', async () => {
    // A Prometheus holding Linkerd's metrics for the app (its HTTP API, answering the two call-graph queries).
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const query = new URLSearchParams(body).get('query') ?? '';
        const result = query.includes('request_total{direction="outbound"}') && !query.includes('istio_') ? [{ metric: { namespace: 'votes', deployment: 'web', dst_namespace: 'votes', dst_deployment: 'voting' }, value: [0, '12.5'] }] : query.includes('direction="inbound"') && !query.includes('istio_') ? [{ metric: { namespace: 'votes', deployment: 'web' }, value: [0, '30'] }] : [];
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const web = LINKERD_VOTES['web.yaml']!.replace('    meshdrill.dev/calls: voting\n    meshdrill.dev/entrypoint-rps: "40"\n', '');
      const repo = await ConfigRepo.create({ ...LINKERD_VOTES, 'web.yaml': web });

      const { code, out, err } = await check(repo, '--prometheus', url, '--window', '30m');

      expect(err).toBe('');
      expect(code).toBe(0);
      expect(out).toContain(`note: calls from Linkerd telemetry in ${url} over 30m: votes/web → votes/voting`);
      expect(out).toContain('entrypoints, at meshdrill.dev/entrypoint-rps, the rate telemetry saw arrive unattributed, or 10 rps: votes/web 30 rps');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('a MeshTLSAuthentication naming the wrong identity breaks the call, at the identity\'s line', async () => {
    const repo = await ConfigRepo.create(LINKERD_VOTES);
    await repo.commit('lock voting down', withPolicy('webb.votes.serviceaccount.identity.linkerd.cluster.local'));

    const { code, out } = await check(repo, '--base', 'HEAD~1', '--head', 'HEAD');

    expect(code).toBe(1);
    expect(out).toContain('BROKEN votes/web → votes/voting: ok → failing (0% success)');
    expect(out).toContain('policy.yaml:14:16 warning MD110 policy-matches-nothing: MeshTLSAuthentication votes/voting-callers names identity webb.votes.serviceaccount.identity.linkerd.cluster.local, which no workload has');
  });

  it('a Server by port name with no authorization denies every caller', async () => {
    const repo = await ConfigRepo.create(LINKERD_VOTES);
    const server = votingPolicy('web.votes.serviceaccount.identity.linkerd.cluster.local').split('---\n')[0]!;
    await repo.commit('a Server for voting', { 'policy.yaml': server, 'kustomization.yml': `${LINKERD_VOTES['kustomization.yml']}  - policy.yaml\n` });

    const { code, out } = await check(repo, '--base', 'HEAD~1', '--head', 'HEAD');

    expect(code).toBe(1);
    expect(out).toContain('BROKEN votes/web → votes/voting: ok → failing (0% success)');
    expect(out).toMatch(/by policy\.yaml:\d+:\d+ Server votes\/voting-http spec\.\w+ \(added\)/);
  });

  it('the same policy naming the real caller changes nothing', async () => {
    const repo = await ConfigRepo.create(LINKERD_VOTES);
    await repo.commit('lock voting down', withPolicy('web.votes.serviceaccount.identity.linkerd.cluster.local'));

    const { code, out } = await check(repo, '--base', 'HEAD~1', '--head', 'HEAD');

    expect(out).toContain('no call changed its outcome');
    expect(code).toBe(0);
  });
});

describe.skipIf(!hasKubectl)('meshdrill check judges the review commits a mesh repo sees (Istio, kustomize)', () => {
  const AP = (name: string, spec: string) => `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: ${name}\nspec:\n${spec}`;
  const STRICT = KUSTOMIZE_SHOP['base/peer-authentication.yaml']!.replace('PERMISSIVE', 'STRICT');
  const cases: Array<{ name: string; base?: Record<string, string>; file: string; text: string; broken: string[] }> = [
    {
      name: 'a DENY by principal cuts the caller it names',
      file: 'base/deny.yaml',
      text: AP('no-catalog', '  selector: {matchLabels: {app: stock}}\n  action: DENY\n  rules:\n    - from:\n        - source: {principals: [cluster.local/ns/books/sa/catalog]}\n'),
      broken: ['books/catalog → books/stock'],
    },
    {
      name: 'an ALLOW naming the real caller changes nothing (istio.io authorization task shape)',
      file: 'base/allow.yaml',
      text: AP('front-to-catalog', '  selector: {matchLabels: {app: catalog}}\n  action: ALLOW\n  rules:\n    - from:\n        - source: {principals: [cluster.local/ns/books/sa/front]}\n      to:\n        - operation: {methods: [GET]}\n'),
      broken: [],
    },
    {
      name: 'a DENY scoped to /admin paths changes nothing for GET /',
      file: 'base/deny-admin.yaml',
      text: AP('no-admin', '  action: DENY\n  rules:\n    - to:\n        - operation: {paths: [/admin*]}\n'),
      broken: [],
    },
    {
      name: 'a fault matched on a test header changes nothing for everyone else',
      file: 'base/fault.yaml',
      text: 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: stock\nspec:\n  hosts: [stock]\n  http:\n    - match: [{headers: {x-chaos: {exact: "on"}}}]\n      fault: {abort: {httpStatus: 503, percentage: {value: 100}}}\n      route: [{destination: {host: stock}}]\n    - route: [{destination: {host: stock}}]\n',
      broken: [],
    },
    {
      name: 'a REGISTRY_ONLY Sidecar that forgets a host breaks the calls to it (502 BlackHoleCluster)',
      file: 'base/sidecar.yaml',
      text: 'apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata:\n  name: default\nspec:\n  outboundTrafficPolicy: {mode: REGISTRY_ONLY}\n  egress:\n    - hosts: [./catalog.books.svc.cluster.local, istio-system/*]\n',
      broken: ['books/catalog → books/stock'],
    },
    {
      name: 'REGISTRY_ONLY without a ServiceEntry for the payment provider breaks the call out of the mesh',
      base: { 'meshdrill/topology.yaml': KUSTOMIZE_SHOP['meshdrill/topology.yaml']!.replace('        - name: catalog\n', '        - name: catalog\n          external: [{host: api.stripe.com, port: 443}]\n') },
      file: 'base/registry-only.yaml',
      text: 'apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata:\n  name: default\nspec:\n  outboundTrafficPolicy: {mode: REGISTRY_ONLY}\n',
      broken: ['books/catalog → external/api.stripe.com'],
    },
    {
      name: 'a DestinationRule that turns TLS off toward a STRICT service breaks its meshed callers',
      base: { 'base/peer-authentication.yaml': `${KUSTOMIZE_SHOP['base/peer-authentication.yaml']}---\n${STRICT.replace('name: default', 'name: stock').replace('spec:\n', 'spec:\n  selector: {matchLabels: {app: stock}}\n')}` },
      file: 'base/dr.yaml',
      text: 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: stock\nspec:\n  host: stock\n  trafficPolicy:\n    tls: {mode: DISABLE}\n',
      broken: ['books/catalog → books/stock'],
    },
  ];

  it.each(cases)('$name', async ({ base, file, text, broken }) => {
    const resources = KUSTOMIZE_SHOP['base/kustomization.yml']!;
    const repo = await ConfigRepo.create({ ...KUSTOMIZE_SHOP, ...base });
    await repo.commit('review', { [file]: text, 'base/kustomization.yml': `${resources}  - ${file.slice('base/'.length)}\n` });

    const { code, out, err } = await check(repo, '--base', 'HEAD~1', '--head', 'HEAD');

    expect(err).toBe('');
    expect([...out.matchAll(/^ {2}BROKEN (\S+ → \S+):/gm)].map((m) => m[1])).toEqual(broken);
    if (broken.length) expect(out).toContain(`by ${file}:`);
    expect(code).toBe(broken.length ? 1 : 0);
  });
});
