export * from './bundles.js';
export * from './pki.js';
