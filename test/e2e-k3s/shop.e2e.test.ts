import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { dockerSkipReason, runExampleGameDayOn } from '../helpers/e2e-gameday.js';

const reason = dockerSkipReason(['helm']);
if (reason) console.log(`e2e-k3s skipped: ${reason}; these tests need Docker (privileged containers) and helm`);

// The example game day on k3s started through testcontainers, with real Istio. Minutes, not
// seconds: run with `npx vitest run test/e2e-k3s` on a machine with Docker.
describe.skipIf(reason !== '')('the example game day on k3s with real Istio', () => {
  it('runs, reverts every fault, and stops the container', async () => {
    const { code, out } = await runExampleGameDayOn('{provider: k3s, nodes: 1, kubernetesVersion: "1.34"}');

    expect(out).toContain('game day weekly-mesh-resilience');
    expect([0, 1]).toContain(code);
    expect(spawnSync('docker', ['ps', '--filter', 'ancestor=rancher/k3s:v1.34.1-k3s1', '-q'], { encoding: 'utf8' }).stdout.trim()).toBe('');
  }, 3 * 3_600_000);
});
