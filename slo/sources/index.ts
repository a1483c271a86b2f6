export { EmbeddedSource } from './embedded.js';
export { PrometheusSource } from './prometheus.js';
