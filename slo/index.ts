export * from './objective.js';
export * from './schema.js';
export * from './sli.js';
