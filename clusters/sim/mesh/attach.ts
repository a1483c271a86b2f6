import type { SimCluster } from '../cluster.js';
import { MeshTwin } from './twin.js';

/** Attaches the mesh twin to an embedded cluster and serves its metrics at /metrics (Prometheus text format). */
export function attachMeshTwin(cluster: SimCluster): MeshTwin {
  const twin = new MeshTwin(cluster);
  cluster.addRoute((request, _body, res) => {
    if (request.url.pathname !== '/metrics' || request.method !== 'GET') return false;
    const text = twin.metrics.exposition();
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
    return true;
  });
  return twin;
}
