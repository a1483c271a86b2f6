import { spawn } from 'node:child_process';
import { ClusterError } from '../core/index.js';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** How to get a tool that is missing, said in the error. */
export const INSTALL_HINTS: Record<string, string> = {
  kind: 'install kind ≥ v0.24 (https://kind.sigs.k8s.io/docs/user/quick-start/#installation), e.g. `go install sigs.k8s.io/kind@v0.30.0`',
  docker: 'install Docker Engine and make sure `docker info` works for this user',
  helm: 'install Helm ≥ 3.6 (https://helm.sh/docs/intro/install/)',
  istioctl: 'install istioctl (https://istio.io/latest/docs/setup/getting-started/#download)',
  linkerd: 'install the linkerd CLI (https://linkerd.io/2/getting-started/)',
  kubectl: 'install kubectl (https://kubernetes.io/docs/tasks/tools/)',
};

/**
 * Runs a tool from PATH and collects its output. A tool that is not installed is an
 * infrastructure error that says how to get it; a non-zero exit is returned, not thrown.
 */
export function exec(binary: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { env: options.env ?? process.env, ...(options.cwd ? { cwd: options.cwd } : {}), stdio: [options.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (timer) clearTimeout(timer);
      reject(error.code === 'ENOENT' ? new ClusterError(`${binary} is not installed (not on PATH); ${INSTALL_HINTS[binary] ?? `install ${binary}`}`) : error);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    if (child.stdin) {
      // A tool that exits without reading its input closes the pipe: not an error of ours.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input);
    }
  });
}
