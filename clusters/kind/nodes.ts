import type { NodeControl, KubeClient } from '../kube/types.js';
import { ClusterError } from '../../core/index.js';
import { exec, type ExecResult } from '../exec.js';

/**
 * Node loss on kind: a kind node is a container of the same name, so losing it is `docker stop`
 * and bringing it back `docker start` (DESIGN.md, fault catalogue: "kind: node container
 * stopped"). Only workers are offered; the control plane is never stopped.
 */
export async function kindNodeControl(kube: KubeClient, options: { run?: (binary: string, args: string[]) => Promise<ExecResult> } = {}): Promise<NodeControl> {
  const run = options.run ?? ((binary, args) => exec(binary, args, { timeoutMs: 120_000 }));
  const workers = (await kube.list('v1', 'Node')).map((n) => n.metadata.name).filter((n) => !n.endsWith('-control-plane') && !n.includes('control-plane'));
  return {
    nodes: () => workers,
    async setReady(node, ready) {
      if (!workers.includes(node)) throw new ClusterError(`${node} is not a worker of this kind cluster (workers: ${workers.join(', ') || 'none'})`);
      const result = await run('docker', [ready ? 'start' : 'stop', node]);
      if (result.code !== 0) throw new ClusterError(`docker ${ready ? 'start' : 'stop'} ${node} failed: ${result.stderr.trim()}`);
    },
  };
}
