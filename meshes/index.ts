export { IstioAdapter, ISTIO_NAMESPACE } from './istio.js';
export { LinkerdAdapter, LINKERD_NAMESPACE, WORKLOAD_PORT } from './linkerd.js';
export { promqlFor } from './promql.js';
export { meshAdapter } from './registry.js';
export { restartWorkloads } from './restart.js';
export type { ControlPlane, DataPlaneMode, InstallOptions, MeshAdapter, MeshName, MtlsMode } from './types.js';
