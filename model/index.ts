export * from './document.js';
export * from './quantity.js';
export * from './topology.js';
export * from './sli.js';
export * from './call-graph.js';
export * from './yaml-budget.js';
