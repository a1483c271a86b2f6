import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { RUN_OUTPUT_MARKER } from '../core/index.js';
import { isPodReady } from './kube/pods.js';
import type { KubeClient, KubeObject } from './kube/types.js';

export interface DiagnosticsOptions {
  kube: KubeClient;
  /** The namespaces the run touched, and the control plane's. */
  namespaces: string[];
  controlPlaneNamespace: string;
  dir: string;
  /** Proxy config dumps are large and slow: at most this many per run. */
  maxDumps?: number;
  /** Lines kept from the end of each log. */
  logLines?: number;
  /** A proxy's config (Envoy config_dump, Linkerd proxy metrics); absent where there is no way to ask. */
  proxyDump?: (namespace: string, pod: string) => Promise<string>;
}

type Pod = KubeObject & { status?: { phase?: string; conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>; containerStatuses?: Array<{ name: string; restartCount?: number; ready?: boolean }> }; spec?: { containers?: Array<{ name: string }> } };


/**
 * What a person needs after a failed run, bounded: events and pod states of the affected
 * namespaces, log tails of unready or restarted pods and of the control plane, and a few proxy
 * config dumps — all into the run's artifact folder. Best effort: a failure to collect one thing
 * is written down, not thrown.
 */
export async function collectDiagnostics(options: DiagnosticsOptions): Promise<string[]> {
  const maxDumps = options.maxDumps ?? 10;
  const tail = (text: string) => text.split('\n').slice(-(options.logLines ?? 200)).join('\n');
  await mkdir(options.dir, { recursive: true });
  // The dumps are YAML: marked, so a config repo that holds the run's folder is not read as config.
  await writeFile(join(options.dir, RUN_OUTPUT_MARKER), "A meshdrill run's diagnostics. Config scans skip this folder.\n");
  const written: string[] = [];
  const write = async (name: string, text: string) => {
    await writeFile(join(options.dir, name), text);
    written.push(name);
  };
  let dumps = 0;
  for (const ns of [...new Set([options.controlPlaneNamespace, ...options.namespaces])]) {
    const events = await options.kube.list('v1', 'Event', { namespace: ns }).catch(() => [] as KubeObject[]);
    await write(`${ns}.events.txt`, events.map((e) => `${String(e['lastTimestamp'] ?? e['eventTime'] ?? '')} ${String(e['type'] ?? '')} ${String(e['reason'] ?? '')} ${String((e['involvedObject'] as { kind?: string; name?: string } | undefined)?.kind ?? '')}/${String((e['involvedObject'] as { name?: string } | undefined)?.name ?? '')}: ${String(e['message'] ?? '')}`).sort().join('\n') || '(no events)');
    const pods = (await options.kube.list('v1', 'Pod', { namespace: ns }).catch(() => [] as KubeObject[])) as Pod[];
    await write(`${ns}.pods.yaml`, stringify(pods.map((p) => ({ name: p.metadata.name, phase: p.status?.phase, conditions: p.status?.conditions, containers: p.status?.containerStatuses }))));
    const troubled = ns === options.controlPlaneNamespace ? pods : pods.filter((p) => !isPodReady(p) || (p.status?.containerStatuses ?? []).some((c) => (c.restartCount ?? 0) > 0));
    for (const pod of troubled.slice(0, maxDumps)) {
      for (const container of pod.spec?.containers ?? []) {
        const log = await options.kube.logs(ns, pod.metadata.name, container.name).catch((error: Error) => `(could not read the log: ${error.message})`);
        await write(`${ns}.${pod.metadata.name}.${container.name}.log`, tail(log));
      }
    }
    if (!options.proxyDump) continue;
    for (const pod of pods.filter((p) => (p.spec?.containers ?? []).some((c) => c.name === 'istio-proxy' || c.name === 'linkerd-proxy'))) {
      if (dumps >= maxDumps) break;
      dumps++;
      const dump = await options.proxyDump(ns, pod.metadata.name).catch((error: Error) => `(could not dump the proxy config: ${error.message})`);
      await write(`${ns}.${pod.metadata.name}.proxy.txt`, dump);
    }
  }
  return written;
}
