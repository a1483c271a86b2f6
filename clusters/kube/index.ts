export { createKubeClient } from './client-node.js';
export type { KubeClient, KubeObject } from './types.js';
export { isPodReady } from './pods.js';
