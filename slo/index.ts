export * from './objective.js';
export * from './schema.js';
export * from './evaluate.js';
export * from './types.js';
export { PrometheusClient, type PrometheusSample } from './prometheus-client.js';
export { observeCallGraph, type ObservedCallGraph } from './call-graph.js';
export { measureGate, measureWithCallersFallback, resolveGate, type GateSources, type ResolvedGate } from './gates.js';
export { ClientViewSource, clientViewOver, EmbeddedSource, NoSource, PrometheusSource } from './sources/index.js';
export { judgeEvidence, type Judgement, type JudgedEvaluation } from './evidence.js';
