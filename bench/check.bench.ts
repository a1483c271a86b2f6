// PR-check figures: the example repo, base vs a head that makes payments STRICT.
import { performance } from 'node:perf_hooks';
import { documentsOfKind, loadConfig } from '../harness/config/index.js';
import { listYamlFiles } from '../harness/config/load.js';
import { behaviourOf, diffBehaviour } from '../suites/check/behaviour.js';
import { loadManifests } from '../suites/check/manifests.js';
import { runRules } from '../suites/check/rules.js';
import { timing } from './reference.js';

const t0 = performance.now();
const repo = await loadConfig('examples/shop');
const topology = documentsOfKind(repo, 'Topology')[0]!.data;
const plan = documentsOfKind(repo, 'RolloutPlan')[0]!.data;
const base = await loadManifests('examples/shop', await listYamlFiles('examples/shop'));
const meshPayments = base.map((m) => (m.object.kind === 'Namespace' && m.object.metadata.name === 'payments' ? { ...m, object: { ...m.object, metadata: { ...m.object.metadata, labels: { ...m.object.metadata.labels, 'istio-injection': 'enabled' } } } } : m));
const head = [...meshPayments, { file: 'payments-strict.yaml', line: 1, object: { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default', namespace: 'payments' }, spec: { mtls: { mode: 'STRICT' } } } }];
const t1 = performance.now();
const findings = runRules({ manifests: head, topology, plan });
const t2 = performance.now();
const before = await behaviourOf({ manifests: base, topology, mesh: plan.spec.mesh });
const after = await behaviourOf({ manifests: head, topology, mesh: plan.spec.mesh });
const changes = diffBehaviour(before, after);
const t3 = performance.now();
console.log(timing('meshdrill check on examples/shop (base vs payments STRICT), in process', t3 - t0, 1_500));
console.log(`  load ${(t1 - t0).toFixed(0)} ms, rules ${(t2 - t1).toFixed(1)} ms (${findings.length} findings), base ${before.wallMs} ms, head ${after.wallMs} ms on the embedded cluster (${changes.length} calls changed)`);

// The same comparison as a person runs it: the CLI (dist/) on a git repo whose head commit makes
// payments STRICT, against its base commit.
{
  const { execFileSync, spawnSync } = await import('node:child_process');
  const { cpSync, mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const repoDir = mkdtempSync(join(tmpdir(), 'meshdrill-bench-check-'));
  cpSync('examples/shop', repoDir, { recursive: true });
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repoDir, stdio: 'ignore', env: { ...process.env, GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@example.com', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@example.com' } });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'base');
  writeFileSync(join(repoDir, 'manifests', 'payments-strict.yaml'), 'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: payments\nspec:\n  mtls:\n    mode: STRICT\n');
  git('add', '-A');
  git('commit', '-q', '-m', 'payments STRICT');
  const bin = new URL('../bin/meshdrill.js', import.meta.url).pathname;
  const t = performance.now();
  const result = spawnSync(process.execPath, [bin, 'check', repoDir, '--base', 'HEAD~1'], { stdio: 'ignore' });
  const ms = performance.now() - t;
  rmSync(repoDir, { recursive: true, force: true });
  console.log(timing(`meshdrill check <repo> --base HEAD~1 (the CLI, exit ${result.status})`, ms, 1_500));
}
