import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**'],
    // Timeouts are a safety net, not a speed test: on a busy 2-core machine a test may take several
    // times its quiet duration, and must still pass. Tests wait for events, never for time.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Several files mostly wait (real Prometheus scrapes, child processes): two workers keep both cores busy.
    maxWorkers: 2,
    // Test files share their worker's module cache: the Kubernetes client, zod schemas and the
    // embedded cluster load once per worker instead of once per file (most of the suite's time
    // went to imports). Nothing in meshdrill keeps state in modules, so files cannot see each other.
    isolate: false,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
