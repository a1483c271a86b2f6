import { spawn, type ChildProcess } from 'node:child_process';
import { ClusterError } from '../core/index.js';
import { INSTALL_HINTS } from './exec.js';

export interface PortForward {
  url: string;
  close(): void;
}

/**
 * `kubectl port-forward` to a Service on a free local port, through the run's kubeconfig; resolves
 * once kubectl says it is forwarding ("Forwarding from 127.0.0.1:PORT -> …").
 */
export function portForward(options: { kubeconfigPath: string; namespace: string; service: string; port: number; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<PortForward> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn('kubectl', ['port-forward', '-n', options.namespace, `svc/${options.service}`, `:${options.port}`, '--address', '127.0.0.1'], { env: { ...(options.env ?? process.env), KUBECONFIG: options.kubeconfigPath }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill();
      reject(new ClusterError(`kubectl port-forward to ${options.namespace}/${options.service} did not start within ${(options.timeoutMs ?? 30_000) / 1000}s: ${err.trim() || out.trim()}`));
    }, options.timeoutMs ?? 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ url: `http://127.0.0.1:${match[1]}`, close: () => child.kill() });
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(error.code === 'ENOENT' ? new ClusterError(`kubectl is not installed (not on PATH); ${INSTALL_HINTS['kubectl'] ?? 'install kubectl'}`) : error);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new ClusterError(`kubectl port-forward to ${options.namespace}/${options.service} exited ${String(code)}: ${err.trim()}`));
    });
  });
}
