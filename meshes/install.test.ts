import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createKubeClient, startSimCluster, exec, type SimCluster } from '../clusters/index.js';
import { fakeTools, type FakeResponse } from '../test/helpers/fake-tools.js';
import { installMeshOnCluster, type RealInstallOptions } from './install.js';

// Output as the real tools print it (helm 3.16, istioctl 1.27, linkerd edge), trimmed.
const HELM: Record<string, FakeResponse> = {
  'version --short': { stdout: 'v3.16.2+g13654a5\n' },
  'repo add istio': { stdout: '"istio" has been added to your repositories\n' },
  'repo add linkerd-edge': { stdout: '"linkerd-edge" has been added to your repositories\n' },
  'upgrade --install': { stdout: 'Release "istiod" does not exist. Installing it now.\nNAME: istiod\nLAST DEPLOYED: Sun Nov 22 04:40:00 2026\nNAMESPACE: istio-system\nSTATUS: deployed\nREVISION: 1\n' },
};
const LINKERD_CRDS = `---
# Source: linkerd-crds/templates/policy/server.yaml
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: servers.policy.linkerd.io
  labels: {linkerd.io/control-plane-ns: linkerd}
spec:
  group: policy.linkerd.io
  names: {kind: Server, plural: servers, singular: server, shortNames: [srv]}
  scope: Namespaced
  versions:
  - name: v1beta3
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`;
const LINKERD_CONTROL_PLANE = `---
kind: Namespace
apiVersion: v1
metadata:
  name: linkerd
  labels: {linkerd.io/is-control-plane: "true", config.linkerd.io/admission-webhooks: disabled}
---
kind: ConfigMap
apiVersion: v1
metadata: {name: linkerd-config, namespace: linkerd}
data:
  values: |
    identity:
      issuer:
        issuanceLifetime: 1h0m0s
`;
const LINKERD: Record<string, FakeResponse> = {
  'version --client --short': { stdout: 'edge-25.9.1\n' },
  'check --pre': { stdout: 'kubernetes-api\n--------------\n√ can initialize the client\n√ can query the Kubernetes API\n\nStatus check results are √\n' },
  'install --crds': { stdout: LINKERD_CRDS },
  'install --identity-trust-anchors-file': { stdout: LINKERD_CONTROL_PLANE },
  'check --wait': { stdout: 'Status check results are √\n' },
};

const clusters: SimCluster[] = [];
afterEach(async () => {
  for (const c of clusters.splice(0)) await c.close();
});

async function target() {
  const sim = await startSimCluster({ time: 'virtual' });
  clusters.push(sim);
  return { sim, kube: createKubeClient(sim.kubeconfig) };
}

function runWith(path: string): NonNullable<RealInstallOptions['run']> {
  return (binary, args, o) => exec(binary, args, { ...(o ?? {}), env: { PATH: path, HOME: tmpdir() } });
}

describe('installing a mesh on a real cluster (fake helm / istioctl / linkerd on PATH, the embedded cluster as target)', () => {
  it('istio ambient through Helm: cacerts first, then base, istiod, cni, ztunnel, pinned and small', async () => {
    const tools = await fakeTools({ helm: HELM });
    const { kube } = await target();

    await installMeshOnCluster({ mesh: 'istio', mode: 'ambient', version: '1.27.1', certLifetimeMs: 3_600_000, kube, kubeconfigPath: '/k', workDir: await mkdtemp(join(tmpdir(), 'mi-')), logger: { info: () => undefined }, run: runWith(tools.path) });

    const calls = await tools.calls('helm');
    expect(calls.map((c) => c.slice(0, 4).join(' '))).toEqual(['version --short', 'repo add istio https://istio-release.storage.googleapis.com/charts', 'upgrade --install istio-base istio/base', 'upgrade --install istiod istio/istiod', 'upgrade --install istio-cni istio/cni', 'upgrade --install ztunnel istio/ztunnel']);
    expect(calls[3]).toEqual(expect.arrayContaining(['--version', '1.27.1', '--namespace', 'istio-system', 'meshConfig.defaultConfig.proxyMetadata.SECRET_TTL=1h0m0s', 'autoscaleEnabled=false', 'profile=ambient', 'meshConfig.defaultConfig.proxyStatsMatcher.inclusionRegexps[0]=.*upstream_rq_retry.*']));
    const cacerts = await kube.get('v1', 'Secret', 'istio-system', 'cacerts');
    expect(Object.keys((cacerts!['data'] as Record<string, string>) ?? {}).sort()).toEqual(['ca-cert.pem', 'ca-key.pem', 'cert-chain.pem', 'root-cert.pem']);
  });

  it('istio through istioctl when Helm is not installed', async () => {
    const tools = await fakeTools({ istioctl: { 'version --remote=false': { stdout: '1.27.1\n' }, install: { stdout: '✔ Istio core installed ⛵️\n✔ Istiod installed 🧠\n✔ Installation complete\n' } } });
    const { kube } = await target();
    const onlyFakes = `${join(tools.dir, 'bin')}${delimiter}${dirname(process.execPath)}`;

    const steps = await installMeshOnCluster({ mesh: 'istio', mode: 'sidecar', version: '1.27.1', kube, kubeconfigPath: '/k', workDir: await mkdtemp(join(tmpdir(), 'mi-')), logger: { info: () => undefined }, run: runWith(onlyFakes) });

    expect(steps.map((s) => `${s.tool} ${s.args.slice(0, 2).join(' ')}`)).toEqual(['istioctl version --remote=false', 'istioctl install -y']);
    expect((await tools.calls('istioctl'))[1]).toContain('meshConfig.defaultConfig.proxyMetadata.SECRET_TTL=24h0m0s');
    expect((await tools.calls('istioctl'))[1]).toContain('meshConfig.defaultConfig.proxyStatsMatcher.inclusionRegexps[0]=.*upstream_rq_retry.*');
  });

  it('linkerd: pre-check, CRDs and control plane rendered by the CLI with meshdrill\'s anchor and issuer, applied through the API, then checked', async () => {
    const tools = await fakeTools({ linkerd: LINKERD });
    const { kube } = await target();
    const workDir = await mkdtemp(join(tmpdir(), 'mi-'));

    await installMeshOnCluster({ mesh: 'linkerd', mode: 'sidecar', version: 'edge-25.9.1', certLifetimeMs: 3_600_000, kube, kubeconfigPath: '/k', workDir, logger: { info: () => undefined }, run: runWith(tools.path) });

    const calls = await tools.calls('linkerd');
    expect(calls.map((c) => c.slice(0, 2).join(' '))).toEqual(['version --client', 'check --pre', 'install --crds', 'install --identity-trust-anchors-file', 'check --wait']);
    expect(calls[3]).toEqual(['install', '--identity-trust-anchors-file', join(workDir, 'linkerd-ca.crt'), '--identity-issuer-certificate-file', join(workDir, 'linkerd-issuer.crt'), '--identity-issuer-key-file', join(workDir, 'linkerd-issuer.key'), '--set', 'identity.issuer.issuanceLifetime=1h0m0s']);
    expect(await kube.get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', undefined, 'servers.policy.linkerd.io')).toBeDefined();
    expect(await kube.get('v1', 'ConfigMap', 'linkerd', 'linkerd-config')).toBeDefined();
  });

  it('linkerd through its Helm charts when the CLI is not installed: meshdrill\'s anchor and issuer, the edge chart version, Gateway API CRDs', async () => {
    const tools = await fakeTools({ helm: HELM });
    const { kube } = await target();
    const onlyFakes = `${join(tools.dir, 'bin')}${delimiter}${dirname(process.execPath)}`;
    const workDir = await mkdtemp(join(tmpdir(), 'mi-'));

    await installMeshOnCluster({ mesh: 'linkerd', mode: 'sidecar', version: 'edge-25.9.1', certLifetimeMs: 3_600_000, kube, kubeconfigPath: '/k', workDir, logger: { info: () => undefined }, run: runWith(onlyFakes) });
    const missingBoth = await installMeshOnCluster({ mesh: 'linkerd', mode: 'sidecar', version: 'edge-25.9.1', kube, kubeconfigPath: '/k', workDir, logger: { info: () => undefined }, run: runWith(dirname(process.execPath)) }).catch((e: unknown) => e);

    const calls = await tools.calls('helm');
    expect(calls.map((c) => c.slice(0, 4).join(' '))).toEqual(['version --short', 'repo add linkerd-edge https://helm.linkerd.io/edge', 'upgrade --install linkerd-crds linkerd-edge/linkerd-crds', 'upgrade --install linkerd-control-plane linkerd-edge/linkerd-control-plane']);
    expect(calls[2]).toEqual(expect.arrayContaining(['--version', '2025.9.1', 'installGatewayAPI=true', '--create-namespace']));
    expect(calls[3]).toEqual(expect.arrayContaining(['--set-file', `identityTrustAnchorsPEM=${join(workDir, 'linkerd-ca.crt')}`, `identity.issuer.tls.crtPEM=${join(workDir, 'linkerd-issuer.crt')}`, `identity.issuer.tls.keyPEM=${join(workDir, 'linkerd-issuer.key')}`, 'identity.issuer.issuanceLifetime=1h0m0s']));
    expect((missingBoth as Error).message).toMatch(/^installing Linkerd needs the linkerd CLI or helm on PATH/);
  });

  it('stops with the tool\'s own error when a step fails', async () => {
    const tools = await fakeTools({ linkerd: { ...LINKERD, 'check --pre': { code: 1, stdout: '', stderr: '× control plane namespace does not already exist\n    The "linkerd" namespace already exists\n' } } });
    const { kube } = await target();

    const error = await installMeshOnCluster({ mesh: 'linkerd', mode: 'sidecar', version: 'edge-25.9.1', kube, kubeconfigPath: '/k', workDir: await mkdtemp(join(tmpdir(), 'mi-')), logger: { info: () => undefined }, run: runWith(tools.path) }).catch((e: unknown) => e);

    expect((error as Error).message).toBe('linkerd check --pre failed (linkerd exit 1): × control plane namespace does not already exist |     The "linkerd" namespace already exists');
  });
});
