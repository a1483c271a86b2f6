// The ground floor: what every folder may use. Nothing here imports another folder of meshdrill.
export * from './clock.js';
export * from './errors.js';
export * from './logger.js';
export type { Progress } from './progress.js';
export * from './suggest.js';
export * from './redact.js';
export * from './run-output.js';
export { loadX509, type X509 } from './x509.js';
