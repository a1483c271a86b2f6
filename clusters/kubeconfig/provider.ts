import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
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
  /** A kubeconfig with only this context, written into the run's folder: the user's file is never changed. */
  kubeconfigPath: string;
  kubeconfig: string;
  /** Whether faults may be injected: the context is allow-listed, or named with --yes-really. */
  chaosAllowed: boolean;
}

/**
 * An existing cluster (staging, say) through a named context — never the current one implicitly.
 * Chaos on it needs `allowChaos: true` in its Cluster document or `--yes-really <context>`.
 */
export async function useExistingCluster(options: { path?: string; context: string; allowChaos: boolean; yesReally?: string; runDir: string; env: NodeJS.ProcessEnv }): Promise<ExistingCluster> {
  const path = resolve(options.path ?? options.env['KUBECONFIG']?.split(':')[0] ?? join(homedir(), '.kube', 'config'));
  const text = await readFile(path, 'utf8').catch(() => {
    throw new ConfigError(`kubeconfig ${path}: cannot read it`);
  });
  const config = (parse(text) ?? {}) as KubeconfigFile;
  const context = config.contexts?.find((c) => c.name === options.context);
  if (!context) throw new ConfigError(`kubeconfig ${path} has no context "${options.context}" (contexts: ${(config.contexts ?? []).map((c) => c.name).join(', ') || 'none'})`);
  const cluster = config.clusters?.find((c) => c.name === context.context.cluster);
  const user = config.users?.find((u) => u.name === context.context.user);
  if (!cluster) throw new ConfigError(`kubeconfig ${path}: context "${options.context}" names cluster "${context.context.cluster}", which is not in the file`);
  const isolated: KubeconfigFile = { apiVersion: 'v1', kind: 'Config', 'current-context': context.name, contexts: [context], clusters: [cluster], users: user ? [user] : [] };
  await mkdir(options.runDir, { recursive: true });
  const kubeconfigPath = join(options.runDir, 'kubeconfig');
  const kubeconfig = stringify(isolated);
  await writeFile(kubeconfigPath, kubeconfig, { mode: 0o600 });
  if (options.yesReally !== undefined && options.yesReally !== options.context) throw new ConfigError(`--yes-really names context "${options.yesReally}", but the run targets "${options.context}"; name the context you mean`);
  return { context: options.context, kubeconfigPath, kubeconfig, chaosAllowed: options.allowChaos || options.yesReally === options.context };
}
