export { startSimCluster, kubeconfigFor, simWorkerNames, type SimCluster, type SimClusterOptions } from './cluster.js';
export { VirtualClock } from './clock.js';
export { inProcessKubeClient } from './in-process-client.js';
export type { AdmissionHook } from './api/service.js';
export type { KubeObject } from './api/types.js';
export { ApiError } from './api/status.js';
export type { AuditEntry } from './api/rbac.js';
