import type { KubeObject } from './types.js';

/** Whether a pod's Ready condition is True, as kubectl and the endpoints controller read it. */
export function isPodReady(pod: KubeObject): boolean {
  const conditions = (pod['status'] as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? [];
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}
