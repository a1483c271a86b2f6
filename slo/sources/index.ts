export { EmbeddedSource } from './embedded.js';
export { PrometheusSource } from './prometheus.js';
export { LoadSummarySource } from './load-summary.js';
export { ClientViewSource } from './client-view.js';
export { NoSource } from './none.js';
