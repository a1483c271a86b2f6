export { EmbeddedSource } from './embedded.js';
export { PrometheusSource } from './prometheus.js';
export { ClientViewSource, clientViewOver, clientViewQuery, meshedCallersOver } from './client-view.js';
export { NoSource } from './none.js';
export { k6ViewOver, k6ViewQuery } from './k6-view.js';
