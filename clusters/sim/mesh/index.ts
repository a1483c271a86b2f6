export { MeshTwin, type Proxy, type Certificate } from './twin.js';
export { TrafficModel, type TrafficOptions } from './traffic.js';
export { MetricStore, ISTIO_BUCKETS, LINKERD_BUCKETS, type Labels } from './metrics.js';
export { decide, WORKLOAD_PORT, type Decision, type Party, type Result } from './decide.js';
export { attachMeshTwin } from './attach.js';
export { notModelledIn, describeNotModelled, type NotModelled } from './not-modelled.js';
