import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { dockerSkipReason, runExampleGameDayOn } from '../helpers/e2e-gameday.js';

const reason = dockerSkipReason(['kind', 'helm']);
if (reason) console.log(`e2e-kind skipped: ${reason}; these tests need Docker, kind ≥ v0.24 and helm`);

// The example game day on a real kind cluster with real Istio. Minutes, not seconds: run with
// `npx vitest run test/e2e-kind` on a machine with Docker.
describe.skipIf(reason !== '')('the example game day on kind with real Istio', () => {
  it('runs, reverts every fault, and deletes the cluster', async () => {
    const { code, out } = await runExampleGameDayOn('{provider: kind, nodes: 2, kubernetesVersion: "1.34"}');

    expect(out).toContain('game day weekly-mesh-resilience');
    expect([0, 1]).toContain(code);
    expect(spawnSync('kind', ['get', 'clusters'], { encoding: 'utf8' }).stdout).not.toMatch(/^meshdrill-gameday/m);
  }, 3 * 3_600_000);
});
