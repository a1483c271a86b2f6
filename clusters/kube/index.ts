export { createKubeClient } from './client-node.js';
export type { KubeClient, KubeObject, NodeControl } from './types.js';
export { isPodReady } from './pods.js';
