import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { exec, type KubeClient, type KubeObject, type ExecResult } from '../clusters/index.js';
import { ClusterError, type Logger } from '../core/index.js';
import { formatGoDuration } from './objects.js';
import { CIRCUIT_BREAKER_STATS, RETRY_STATS, SSL_STATS } from './promql.js';
import { istioCacerts, linkerdIdentity, type CertificateAuthority } from './pki/index.js';
import type { DataPlaneMode, MeshName } from './types.js';

type Run = (binary: string, args: string[], options?: { input?: string; timeoutMs?: number }) => Promise<ExecResult>;

export interface RealInstallOptions {
  mesh: MeshName;
  mode: DataPlaneMode;
  /** Pinned in config; the chart or CLI version to install. */
  version: string;
  /** Workload certificate lifetime; short for compressed game days. Default 24 h. */
  certLifetimeMs?: number;
  kube: KubeClient;
  kubeconfigPath: string;
  /** Where generated certificates and values files go (the run's folder). */
  workDir: string;
  logger: Pick<Logger, 'info'>;
  run?: Run;
  /** Istio multicluster: one root shared by every cluster, a per-cluster intermediate under it. */
  sharedRoot?: { root: CertificateAuthority; cluster: string; network?: string };
}

export interface InstallStep {
  tool: string;
  args: string[];
}

const ISTIO_REPO = 'https://istio-release.storage.googleapis.com/charts';
/** The mesh ID every cluster of a meshdrill fleet shares. */
export const MESH_ID = 'meshdrill';
const NS = { istio: 'istio-system', linkerd: 'linkerd' } as const;

/**
 * Installs the mesh on a real cluster with the mesh's own tools: Istio through its Helm charts
 * (base, istiod, and cni + ztunnel for ambient; mesh-facts §1.1) or `istioctl install` when Helm is
 * absent; Linkerd through `linkerd install --crds` and `linkerd install` with meshdrill's trust
 * anchor and issuer (§2.1), its output applied through the Kubernetes API. Istio gets a plugged-in
 * CA (`cacerts`) from meshes/pki before istiod starts, so every provider shares meshdrill's root.
 */
export async function installMeshOnCluster(options: RealInstallOptions): Promise<InstallStep[]> {
  const run: Run = options.run ?? ((binary, args, o) => exec(binary, args, { ...(o ?? {}), env: { ...process.env, KUBECONFIG: options.kubeconfigPath } }));
  const steps: InstallStep[] = [];
  const lifetime = formatGoDuration(options.certLifetimeMs ?? 86_400_000);
  const must = async (tool: string, args: string[], what: string, input?: string) => {
    steps.push({ tool, args });
    options.logger.info({ tool }, what);
    const result = await run(tool, args, { timeoutMs: 600_000, ...(input !== undefined ? { input } : {}) });
    if (result.code !== 0) throw new ClusterError(`${what} failed (${tool} exit ${result.code}): ${result.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    return result.stdout;
  };
  await mkdir(options.workDir, { recursive: true });

  if (options.mesh === 'istio') {
    await options.kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS.istio } });
    const { files } = await istioCacerts(options.sharedRoot ? { root: options.sharedRoot.root, cluster: options.sharedRoot.cluster } : {});
    await options.kube.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cacerts', namespace: NS.istio }, type: 'Opaque', stringData: { ...files } });
    const haveHelm = (await run('helm', ['version', '--short']).catch(() => ({ code: 127, stdout: '', stderr: '' }))).code === 0;
    // Small requests and no autoscaling: a 2-core kind node cannot hold istiod's defaults (mesh-facts §1.3).
    const sizing = ['--set', 'resources.requests.cpu=10m', '--set', 'resources.requests.memory=100Mi', '--set', 'autoscaleEnabled=false', '--set', 'global.proxy.resources.requests.cpu=10m', '--set', 'global.proxy.resources.requests.memory=32Mi'];
    const ttl = ['--set', `meshConfig.defaultConfig.proxyMetadata.SECRET_TTL=${lifetime}`];
    // Envoy keeps only a minimal set of stats unless proxyStatsMatcher asks for more; the
    // retries-per-request SLI needs upstream_rq_retry (istio.io/docs/ops/configuration/telemetry/envoy-stats).
    const stats = ['--set', `meshConfig.defaultConfig.proxyStatsMatcher.inclusionRegexps[0]=${RETRY_STATS}`, '--set', `meshConfig.defaultConfig.proxyStatsMatcher.inclusionRegexps[1]=${CIRCUIT_BREAKER_STATS}`, '--set', `meshConfig.defaultConfig.proxyStatsMatcher.inclusionRegexps[2]=${SSL_STATS}`];
    // Multi-primary: one mesh ID, each istiod named after its cluster and network, so endpoints
    // discovered through remote secrets are told apart (Istio's multicluster install guides).
    const multicluster = options.sharedRoot ? ['--set', `global.meshID=${MESH_ID}`, '--set', `global.multiCluster.clusterName=${options.sharedRoot.cluster}`, '--set', `global.network=${options.sharedRoot.network ?? 'network-1'}`] : [];
    if (haveHelm) {
      await must('helm', ['repo', 'add', 'istio', ISTIO_REPO, '--force-update'], 'adding the Istio chart repository');
      const chart = (release: string, name: string, extra: string[] = []) => must('helm', ['upgrade', '--install', release, `istio/${name}`, '--namespace', NS.istio, '--version', options.version, '--wait', '--timeout', '10m', ...extra], `installing ${name} ${options.version}`);
      await chart('istio-base', 'base', ['--set', 'defaultRevision=default']);
      await chart('istiod', 'istiod', [...sizing, ...ttl, ...stats, ...multicluster, ...(options.mode === 'ambient' ? ['--set', 'profile=ambient'] : [])]);
      if (options.mode === 'ambient') {
        await chart('istio-cni', 'cni', ['--set', 'profile=ambient']);
        await chart('ztunnel', 'ztunnel');
      }
    } else {
      await must('istioctl', ['version', '--remote=false'], 'checking istioctl');
      await must('istioctl', ['install', '-y', '--set', `profile=${options.mode === 'ambient' ? 'ambient' : 'minimal'}`, '--set', `values.pilot.resources.requests.cpu=10m`, '--set', 'values.pilot.autoscaleEnabled=false', '--set', `meshConfig.defaultConfig.proxyMetadata.SECRET_TTL=${lifetime}`, ...stats, ...multicluster.map((a) => (a === '--set' ? a : `values.${a}`))], `istioctl install (${options.mode})`);
    }
    return steps;
  }

  // Linkerd: meshdrill's own anchor and issuer (ECDSA P-256, CN identity.linkerd.cluster.local).
  const { anchor, issuer } = await linkerdIdentity();
  const files = { anchor: join(options.workDir, 'linkerd-ca.crt'), issuerCrt: join(options.workDir, 'linkerd-issuer.crt'), issuerKey: join(options.workDir, 'linkerd-issuer.key') };
  await writeFile(files.anchor, anchor.certPem);
  await writeFile(files.issuerCrt, issuer.certPem);
  await writeFile(files.issuerKey, issuer.keyPem, { mode: 0o600 });
  const haveCli = (await run('linkerd', ['version', '--client', '--short']).catch(() => ({ code: 127, stdout: '', stderr: '' }))).code === 0;
  const haveHelm = !haveCli && (await run('helm', ['version', '--short']).catch(() => ({ code: 127, stdout: '', stderr: '' }))).code === 0;
  if (haveHelm) {
    // Linkerd's Helm charts (linkerd/website tasks/install-helm.md; mesh-facts §2.1): the anchor and
    // issuer must be supplied; Gateway API CRDs are a prerequisite the CRD chart can install.
    await must('helm', ['repo', 'add', 'linkerd-edge', LINKERD_EDGE_REPO, '--force-update'], 'adding the Linkerd chart repository');
    const version = linkerdChartVersion(options.version);
    await must('helm', ['upgrade', '--install', 'linkerd-crds', 'linkerd-edge/linkerd-crds', '--namespace', NS.linkerd, '--create-namespace', '--version', version, '--set', 'installGatewayAPI=true', '--wait', '--timeout', '10m'], `installing linkerd-crds ${version}`);
    await must(
      'helm',
      ['upgrade', '--install', 'linkerd-control-plane', 'linkerd-edge/linkerd-control-plane', '--namespace', NS.linkerd, '--version', version, '--set-file', `identityTrustAnchorsPEM=${files.anchor}`, '--set-file', `identity.issuer.tls.crtPEM=${files.issuerCrt}`, '--set-file', `identity.issuer.tls.keyPEM=${files.issuerKey}`, '--set', `identity.issuer.issuanceLifetime=${lifetime}`, '--wait', '--timeout', '10m'],
      `installing linkerd-control-plane ${version}`,
    );
    return steps;
  }
  if (!haveCli) throw new ClusterError('installing Linkerd needs the linkerd CLI or helm on PATH; get the CLI with `curl --proto \'=https\' --tlsv1.2 -sSfL https://run.linkerd.io/install-edge | sh`');
  steps.push({ tool: 'linkerd', args: ['version', '--client', '--short'] });
  await must('linkerd', ['check', '--pre'], 'linkerd check --pre');
  await applyAll(options.kube, await must('linkerd', ['install', '--crds'], 'rendering the Linkerd CRDs'), 'linkerd install --crds');
  const rendered = await must(
    'linkerd',
    ['install', '--identity-trust-anchors-file', files.anchor, '--identity-issuer-certificate-file', files.issuerCrt, '--identity-issuer-key-file', files.issuerKey, '--set', `identity.issuer.issuanceLifetime=${lifetime}`],
    'rendering the Linkerd control plane',
  );
  await applyAll(options.kube, rendered, 'linkerd install');
  await must('linkerd', ['check', '--wait', '10m'], 'waiting for linkerd check');
  return steps;
}

const LINKERD_EDGE_REPO = 'https://helm.linkerd.io/edge';

/** Linkerd's edge charts carry the release as a calendar version: edge-25.9.1 is chart 2025.9.1. */
export function linkerdChartVersion(version: string): string {
  const edge = /^edge-(\d{2})\.(\d+)\.(\d+)$/.exec(version);
  return edge ? `20${edge[1]}.${edge[2]}.${edge[3]}` : version;
}

/** Applies every object of a multi-document YAML stream, in order, through the Kubernetes API. */
export async function applyAll(kube: KubeClient, yaml: string, source: string): Promise<number> {
  let count = 0;
  for (const doc of parseAllDocuments(yaml)) {
    if (doc.errors.length) throw new ClusterError(`${source} printed invalid YAML: ${doc.errors[0]!.message}`);
    const object = doc.toJS() as KubeObject | null;
    if (!object || !object.kind) continue;
    await kube.apply(object);
    count++;
  }
  return count;
}

export { NS as MESH_NAMESPACES };
