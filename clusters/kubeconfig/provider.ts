import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
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
export async function useExistingCluster(options: { path?: string; context: string; allowChaos: boolean; yesReally?: string; env: NodeJS.ProcessEnv }): Promise<ExistingCluster> {
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
