import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { isIPv6 } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { ConfigError } from '../../core/index.js';

interface KubeconfigFile {
  'current-context'?: string;
  contexts?: Array<{ name: string; context: { cluster: string; user: string; namespace?: string } }>;
  clusters?: Array<{ name: string; cluster: Record<string, unknown> }>;
  users?: Array<{ name: string; user: Record<string, unknown> }>;
  [key: string]: unknown;
}

export interface ExistingCluster {
  context: string;
  /**
   * The kubeconfig file(s) the context came from, as KUBECONFIG would list them: tools meshdrill
   * runs (kubectl, linkerd) get these with `--context`. meshdrill never writes a copy.
   */
  kubeconfigPath: string;
  /** The one context, its cluster and user, in memory only. */
  kubeconfig: string;
  /** Whether faults may be injected: the context is allow-listed, or named with --yes-really. */
  chaosAllowed: boolean;
  /** Credentials the context carries (tokens, client keys, passwords): never printed or written. */
  secrets: string[];
}

/** The kubeconfig files kubectl reads: --kubeconfig, else every file in KUBECONFIG, else ~/.kube/config. */
export function kubeconfigFiles(path: string | undefined, env: NodeJS.ProcessEnv): string[] {
  if (path) return [resolve(path)];
  const listed = (env['KUBECONFIG'] ?? '').split(delimiter).filter((p) => p.trim() !== '');
  return listed.length > 0 ? listed.map((p) => resolve(p)) : [join(env['HOME'] ?? homedir(), '.kube', 'config')];
}

/** What a user entry holds that would let someone act as that user. */
export function userSecrets(user: Record<string, unknown> | undefined): string[] {
  if (!user) return [];
  const out: string[] = [];
  for (const key of ['token', 'password', 'client-key-data', 'client-certificate-data']) {
    const value = user[key];
    if (typeof value === 'string' && value.length >= 8) {
      out.push(value);
      // Data fields are base64; the decoded PEM must not show either.
      if (key.endsWith('-data')) out.push(Buffer.from(value, 'base64').toString('utf8').trim());
    }
  }
  return out.filter((s) => s.length >= 8);
}

/**
 * An existing cluster (staging, say) through a named context — never the current one implicitly.
 * Several kubeconfig files merge as kubectl merges them: the first file that defines a name wins.
 * Chaos on it needs `allowChaos: true` in its Cluster document or `--yes-really <context>`.
 */
export async function useExistingCluster(options: { path?: string; context: string; allowChaos: boolean; yesReally?: string; env: NodeJS.ProcessEnv; serviceAccountDir?: string }): Promise<ExistingCluster> {
  if (options.context === IN_CLUSTER_CONTEXT && !options.path) return useInClusterConfig(options);
  const files = kubeconfigFiles(options.path, options.env);
  const configs: KubeconfigFile[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      // kubectl skips KUBECONFIG entries that do not exist; a file named explicitly must.
      if (error.code === 'ENOENT' && !options.path && files.length > 1) return undefined;
      throw new ConfigError(`kubeconfig ${file}: cannot read it (${error.code ?? error.message})`);
    });
    if (text !== undefined) configs.push((parse(text) ?? {}) as KubeconfigFile);
  }
  const first = <T extends { name: string }>(pick: (c: KubeconfigFile) => T[] | undefined, name: string) => configs.flatMap((c) => pick(c) ?? []).find((e) => e.name === name);
  const where = files.join(delimiter);
  const context = first((c) => c.contexts, options.context);
  if (!context) throw new ConfigError(`kubeconfig ${where} has no context "${options.context}" (contexts: ${configs.flatMap((c) => c.contexts ?? []).map((c) => c.name).join(', ') || 'none'})`);
  const cluster = first((c) => c.clusters, context.context.cluster);
  const user = first((c) => c.users, context.context.user);
  if (!cluster) throw new ConfigError(`kubeconfig ${where}: context "${options.context}" names cluster "${context.context.cluster}", which is not in the file`);
  if (options.yesReally !== undefined && options.yesReally !== options.context) throw new ConfigError(`--yes-really names context "${options.yesReally}", but the run targets "${options.context}"; name the context you mean`);
  const isolated: KubeconfigFile = { apiVersion: 'v1', kind: 'Config', 'current-context': context.name, contexts: [context], clusters: [cluster], users: user ? [user] : [] };
  return { context: options.context, kubeconfigPath: where, kubeconfig: stringify(isolated), chaosAllowed: options.allowChaos || options.yesReally === options.context, secrets: userSecrets(user?.user) };
}

/** The context name that means "the cluster this pod runs in, as its service account". */
export const IN_CLUSTER_CONTEXT = 'in-cluster';
/** Where Kubernetes mounts a pod's service-account token, CA and namespace. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * The cluster a pod runs in, as client-go's rest.InClusterConfig and client-node's loadFromCluster
 * build it: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT (http on 80, 8080 and 8001,
 * as client-node does), the mounted CA, the mounted token read from its file (the kubelet rotates
 * it, so it is never copied). Asked for by name (`--context in-cluster`), never assumed. Tools get
 * a kubeconfig file that names the token file (kubectl's `tokenFile`), so it holds no credential.
 */
export async function useInClusterConfig(options: { env: NodeJS.ProcessEnv; allowChaos: boolean; yesReally?: string; serviceAccountDir?: string }): Promise<ExistingCluster> {
  // A pod may mount a projected token elsewhere (its own audience, a shorter expiry): MESHDRILL_SERVICE_ACCOUNT_DIR says where.
  const dir = options.serviceAccountDir ?? options.env['MESHDRILL_SERVICE_ACCOUNT_DIR'] ?? SERVICE_ACCOUNT_DIR;
  const host = options.env['KUBERNETES_SERVICE_HOST'];
  const port = options.env['KUBERNETES_SERVICE_PORT'] ?? '443';
  if (!host) throw new ConfigError(`--context ${IN_CLUSTER_CONTEXT}: not in a pod (KUBERNETES_SERVICE_HOST is not set); outside a cluster, name a kubeconfig context`);
  const token = join(dir, 'token');
  if (!existsSync(token)) throw new ConfigError(`--context ${IN_CLUSTER_CONTEXT}: no service-account token at ${token} (is automountServiceAccountToken off for this pod?)`);
  if (options.yesReally !== undefined && options.yesReally !== IN_CLUSTER_CONTEXT) throw new ConfigError(`--yes-really names context "${options.yesReally}", but the run targets "${IN_CLUSTER_CONTEXT}"; name the context you mean`);
  const scheme = ['80', '8080', '8001'].includes(port) ? 'http' : 'https';
  const server = `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  const ca = join(dir, 'ca.crt');
  const namespace = existsSync(join(dir, 'namespace')) ? (await readFile(join(dir, 'namespace'), 'utf8')).trim() : 'default';
  // Plain HTTP has no certificate to check; client-node refuses http:// unless told so.
  const cluster = { server, ...(scheme === 'https' ? { 'certificate-authority': ca } : { 'insecure-skip-tls-verify': true }) };
  const context = { name: IN_CLUSTER_CONTEXT, context: { cluster: IN_CLUSTER_CONTEXT, user: IN_CLUSTER_CONTEXT, namespace } };
  const config = (user: Record<string, unknown>) => stringify({ apiVersion: 'v1', kind: 'Config', 'current-context': IN_CLUSTER_CONTEXT, clusters: [{ name: IN_CLUSTER_CONTEXT, cluster }], contexts: [context], users: [{ name: IN_CLUSTER_CONTEXT, user }] });
  // kubectl reads tokenFile; client-node's tokenFile auth provider re-reads the file as it rotates.
  const fileDir = await mkdtemp(join(tmpdir(), 'meshdrill-in-cluster-'));
  const kubeconfigPath = join(fileDir, 'kubeconfig');
  await writeFile(kubeconfigPath, config({ tokenFile: token }), { mode: 0o600 });
  // The token is never copied, but it is never printed either.
  const current = (await readFile(token, 'utf8')).trim();
  return { context: IN_CLUSTER_CONTEXT, kubeconfigPath, kubeconfig: config({ 'auth-provider': { name: 'tokenFile', config: { tokenFile: token } } }), chaosAllowed: options.allowChaos || options.yesReally === IN_CLUSTER_CONTEXT, secrets: current.length >= 8 ? [current] : [] };
}
