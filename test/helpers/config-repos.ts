import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A git repository in a temporary directory, written file by file and committed step by step. */
export class ConfigRepo {
  private constructor(readonly dir: string) {}

  static async create(files: Record<string, string>): Promise<ConfigRepo> {
    const repo = new ConfigRepo(await mkdtemp(join(tmpdir(), 'meshdrill-repo-')));
    await repo.git('init', '-q', '-b', 'main');
    await repo.commit('base', files);
    return repo;
  }

  async write(files: Record<string, string>): Promise<void> {
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(this.dir, path)), { recursive: true });
      await writeFile(join(this.dir, path), text);
    }
  }

  async commit(message: string, files: Record<string, string>): Promise<void> {
    await this.write(files);
    await this.git('add', '-A');
    await this.git('-c', 'user.name=Pat', '-c', 'user.email=pat@example.com', 'commit', '-q', '--allow-empty', '-m', message);
  }

  async git(...args: string[]): Promise<string> {
    return (await run('git', args, { cwd: this.dir })).stdout;
  }
}

/**
 * A bookshop in the layout platform teams use: a kustomize base (no namespaces in it), an overlay
 * per cluster that sets the namespace, a Helm values file and a CI file beside them, an Argo CD
 * Application, and meshdrill's Topology. Written for these tests.
 */
export const KUSTOMIZE_SHOP: Record<string, string> = {
  'meshdrill/topology.yaml': `apiVersion: meshdrill.dev/v1alpha1
kind: Topology
metadata: {name: bookshop}
spec:
  entrypoints:
    - {service: books/front, rps: 50}
    - {service: legacy/cron, rps: 5}
  namespaces:
    - name: books
      services:
        - name: front
          calls: [{to: books/catalog}]
        - name: catalog
          calls: [{to: books/stock}]
        - name: stock
    - name: legacy
      services:
        - name: cron
          calls: [{to: books/stock}]
`,
  'base/kustomization.yml': `# The bookshop's base: no namespace here; each overlay sets it.
resources:
  - namespace.yaml
  - peer-authentication.yaml
  - catalog.yaml
`,
  'base/namespace.yaml': `apiVersion: v1
kind: Namespace
metadata:
  name: books
  labels:
    istio-injection: enabled
`,
  'base/peer-authentication.yaml': `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: default
spec:
  mtls:
    mode: PERMISSIVE
`,
  'base/catalog.yaml': `apiVersion: v1
kind: Service
metadata:
  name: catalog
spec:
  selector: {app: catalog}
  ports: [{name: http, port: 8080}]
`,
  'overlays/prod/kustomization.yaml': `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: books
resources:
  - ../../base
`,
  'charts/values.yaml': `replicaCount: 2
image:
  repository: bookshop/front
`,
  'ci/lint.yaml': `on: [pull_request]
jobs:
  lint: {runs-on: ubuntu-latest, steps: [{run: make lint}]}
`,
  'argocd/bookshop.yaml': `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: bookshop
  namespace: argocd
spec:
  project: default
  source: {repoURL: https://git.example.com/bookshop.git, path: overlays/prod, targetRevision: main}
  destination: {server: https://kubernetes.default.svc, namespace: books}
`,
};

/**
 * A voting app on Linkerd with no meshdrill Topology: Deployments and Services as a team writes
 * them, calls declared with meshdrill.dev/calls, one kustomization with the namespace. Written
 * for these tests.
 */
export const LINKERD_VOTES: Record<string, string> = {
  'kustomization.yml': `namespace: votes
resources:
  - namespace.yaml
  - web.yaml
  - voting.yaml
`,
  'namespace.yaml': `apiVersion: v1
kind: Namespace
metadata:
  name: votes
  annotations:
    linkerd.io/inject: enabled
`,
  'web.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    meshdrill.dev/calls: voting
    meshdrill.dev/entrypoint-rps: "40"
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: web
      containers: [{name: web, image: votes/web:1, ports: [{name: http, containerPort: 8080}]}]
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports: [{name: http, port: 8080}]
`,
  'voting.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: voting
spec:
  selector: {matchLabels: {app: voting}}
  template:
    metadata: {labels: {app: voting}}
    spec:
      serviceAccountName: voting
      containers: [{name: voting, image: votes/voting:1, ports: [{name: http, containerPort: 8080}]}]
---
apiVersion: v1
kind: Service
metadata:
  name: voting
spec:
  selector: {app: voting}
  ports: [{name: http, port: 8080}]
`,
};

/** A Linkerd Server for voting's port by name, its policy, and the identities it lets in. */
export function votingPolicy(identity: string): string {
  return `apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata:
  name: voting-http
spec:
  podSelector: {matchLabels: {app: voting}}
  port: http
---
apiVersion: policy.linkerd.io/v1alpha1
kind: MeshTLSAuthentication
metadata:
  name: voting-callers
spec:
  identities: [${identity}]
---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata:
  name: voting-callers
spec:
  targetRef: {group: policy.linkerd.io, kind: Server, name: voting-http}
  requiredAuthenticationRefs:
    - {group: policy.linkerd.io, kind: MeshTLSAuthentication, name: voting-callers}
`;
}
