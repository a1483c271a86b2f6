import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { attachMeshTwin, startSimCluster, type SimCluster } from '../clusters/index.js';

// Debian's python3-kubernetes is the official Python client: a second real client, with its own
// ideas of booleans (watch=True), errors and watches.
const PYTHON = '/usr/bin/python3';
const run = promisify(execFile);
const hasClient = existsSync(PYTHON) && (await run(PYTHON, ['-c', 'import kubernetes']).then(() => true, () => false));

const sims: SimCluster[] = [];
afterEach(async () => {
  for (const s of sims.splice(0)) await s.close();
});

describe.skipIf(!hasClient)('the official Python client (python3-kubernetes) against the embedded cluster', () => {
  it('lists, creates, patches, watches, logs, refuses exec, and deletes a namespace as a real API server does', async () => {
    const sim = await startSimCluster({ time: 'real', podStartDelayMs: 50 });
    attachMeshTwin(sim);
    sims.push(sim);
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-python-'));
    await writeFile(join(dir, 'kubeconfig'), sim.kubeconfig);

    const { stdout } = await run(PYTHON, [join(import.meta.dirname, 'python', 'conformance.py'), join(dir, 'kubeconfig')], { timeout: 90_000 });
    const found = JSON.parse(stdout) as Record<string, unknown>;

    expect(found).toMatchObject({
      namespaces: ['default', 'kube-node-lease', 'kube-public', 'kube-system'],
      kubernetes_service: '10.96.0.1',
      patched: { a: '2' },
      by_label: ['settings'],
      watch: [['ADDED', 'settings', '1'], ['MODIFIED', 'settings', '2']],
      duplicate: [409, 'AlreadyExists'],
      ready_replicas: 2,
      exec: [400],
      terminating: 'Terminating',
      create_in_terminating: [403, 'Forbidden'],
      namespace_gone: 404,
    });
    expect(found['log']).toMatch(/app: started, serving/);
  });
});

if (!hasClient) console.log(`python-client skipped: ${PYTHON} with the kubernetes module is not installed (Debian package python3-kubernetes)`);
