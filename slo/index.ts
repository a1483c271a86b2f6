export * from './objective.js';
export * from './schema.js';
export * from './sli.js';
export * from './evaluate.js';
export * from './types.js';
export { PrometheusClient, type PrometheusSample } from './prometheus-client.js';
