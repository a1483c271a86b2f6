import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasErrors, loadConfig, renderDiagnostic } from '../harness/config/index.js';

const CORPUS = join(import.meta.dirname, 'fixtures', 'bad-config');

async function messagesFor(file: string): Promise<string[]> {
  const repo = await loadConfig(file, { cwd: CORPUS });
  return repo.diagnostics.map(renderDiagnostic);
}

// One row per broken file: every message the loader must print for it, exactly.
const EXPECTED: Array<[string, string[]]> = [
    ["alias-bomb.yaml", ["alias-bomb.yaml:1:1 YAML error: Excessive alias count indicates a resource exhaustion attack"]],
    ["bad-cron.yaml", ["bad-cron.yaml:5:13 spec.schedule: expected a cron expression like \"0 6 * * 1\"; found \"every monday\""]],
    ["cron-out-of-range.yaml", ["cron-out-of-range.yaml:5:13 spec.schedule: not a schedule cron can run: configuration entry 5 (banana) contains illegal characters; found \"0 99 * * banana\""]],
    ["invalid-slo-referenced.yaml", ["invalid-slo-referenced.yaml:4:58 spec.window: expected a duration like \"30m\", \"1h30m\" or \"500ms\"; found \"banana\""]],
    ["k3s-unknown-version.yaml", ["k3s-unknown-version.yaml:4:52 spec.kubernetesVersion: kubernetesVersion \"1.31\": no k3s image known for it; give a full version like \"1.33.1\", or one of 1.32, 1.33, 1.34, 1.35"]],
    ["kind-without-mesh-version.yaml", ["kind-without-mesh-version.yaml:10:9 spec.mesh.version: game day \"weekly\" runs on kind cluster \"lab\", where the mesh is installed with its own tools: pin its version (e.g. version: 1.27.1) so the install is reproducible"]],
    ["promql-syntax.yaml", ["promql-syntax.yaml:7:10 spec.query: PromQL syntax error at column 84 (near \"otal[5m]))\"); found \"sum(rate(http_requests_total{code=~\"5..\"}[5m]) / sum(rate(http_requests_total[5m]))\""]],
    ["bad-name.yaml", ["bad-name.yaml:3:18 metadata.name: expected a DNS-1123 name (lowercase letters, digits and \"-\", starting and ending with a letter or digit); found \"Lab_1\""]],
    ["binary.yaml", ["binary.yaml:1:1 not a text file: found a NUL byte at offset 8; expected UTF-8 YAML"]],
    ["call-to-missing-port.yaml", ["call-to-missing-port.yaml:9:51 spec.namespaces[0].services[0].calls[0].port: web/api has no port \"grpc-admin\"; its ports: http (8080), metrics (9090)"]],
    ["request-shares.yaml", ["request-shares.yaml:13:17 spec.namespaces[0].services[0].calls[0].requests: the request shares add up to 90%; expected 100%"]],
    ["call-cycle.yaml", ["call-cycle.yaml:7:5 spec.namespaces: the call graph has a cycle: web/app \u2192 web/api \u2192 web/app; requests would loop forever"]],
    ["sli-not-on-mesh.yaml", ["sli-not-on-mesh.yaml:14:16 spec.stages[0].gates[0].slo: circuit-breaker-trips reads Envoy's upstream_rq_pending_overflow; Linkerd has no connection-pool circuit breaker to trip (its failure accrual is not exposed as a metric), so it is not available on Linkerd; this plan is on linkerd (SLO api-breakers)", "sli-not-on-mesh.yaml:15:17 spec.stages[0].gates[1].sli: push-latency is an Istio control-plane metric (pilot_proxy_convergence_time); Linkerd has no equivalent; this plan is on linkerd"]],
    ["sli-not-on-ambient.yaml", ["sli-not-on-ambient.yaml:9:17 spec.stages[0].gates[0].sli: proxy-config-age reads the sidecars' Envoy cluster_manager.cds.update_time; ztunnel exposes no time of its last config update, so it is not available on Istio ambient; this plan is on istio ambient"]],
    ["dangling-gate-slo.yaml", ["dangling-gate-slo.yaml:14:16 spec.stages[0].gates[0].slo: unknown SLO \"web-availabilty\"; did you mean \"web-availability\"?"]],
    ["dangling-stage-namespace.yaml", ["dangling-stage-namespace.yaml:17:20 spec.stages[0].namespaces[0]: unknown namespace \"wbe\"; did you mean \"web\"?"]],
    ["duplicate-documents.yaml", ["duplicate-documents.yaml:8:18 metadata.name: duplicate Cluster \"lab\"; first defined at duplicate-documents.yaml:3"]],
    ["duplicate-keys.yaml", ["duplicate-keys.yaml:7:3 YAML syntax error: Map keys must be unique"]],
    ["duplicate-stage-name.yaml", ["duplicate-stage-name.yaml:8:13 spec.stages[1].name: duplicate stage name \"canary\"; stages[0] has it too"]],
    ["duration-not-a-duration.yaml", ["duration-not-a-duration.yaml:9:13 spec.stages[0].bake: expected a duration like \"30m\", \"1h30m\" or \"500ms\"; found \"banana\""]],
    ["duration-without-unit.yaml", ["duration-without-unit.yaml:7:22 spec.baseline.window: expected a duration like \"30m\", \"1h30m\" or \"500ms\"; found 600 (a number)"]],
    ["empty.yaml", ["empty.yaml:1:1 file is empty; expected at least one document with apiVersion and kind"]],
    ["fault-unknown-type.yaml", ["fault-unknown-type.yaml:6:21 spec.steps[0].fault.type: expected one of \"ca-loss\", \"control-plane-partition\", \"control-plane-crash\", \"injector-outage\", \"proxy-crash\", \"http-fault\", \"node-loss\", \"region-loss\", \"cert-expiry\", \"proxy-cpu-saturation\", \"proxy-memory-leak\", \"circuit-breaker\", \"telemetry-drop\", \"routing-loop\", \"zone-partition\", \"mtls-relaxation\"; found \"ca-los\"; did you mean \"ca-loss\"?"]],
    ["kind-only-fields.yaml", ["kind-only-fields.yaml:7:11 spec.images: only provider \"kind\" uses images; provider \"k3s\" would ignore it"]],
    ["kubeconfig-without-context.yaml", ["kubeconfig-without-context.yaml:5:3 spec.kubeconfig: missing required field; provider \"kubeconfig\" needs kubeconfig.context"]],
    ["linkerd-ambient.yaml", ["linkerd-ambient.yaml:5:31 spec.mesh.mode: Linkerd has no ambient mode; expected \"sidecar\""]],
    ["list-document.yaml", ["list-document.yaml:1:1 expected a mapping with apiVersion and kind; found a list of 1"]],
    [
      "many-errors.yaml",
      [
        "many-errors.yaml:4:9 metadata.name: expected a DNS-1123 name (lowercase letters, digits and \"-\", starting and ending with a letter or digit); found \"Plan\"",
        "many-errors.yaml:6:16 spec.mesh.name: expected one of \"istio\", \"linkerd\"; found \"istoi\"; did you mean \"istio\"?",
        "many-errors.yaml:9:13 spec.stages[0].bake: expected a duration like \"30m\", \"1h30m\" or \"500ms\"; found 30 (a number)",
        "many-errors.yaml:10:13 spec.stages[0].mtls: expected one of \"PERMISSIVE\", \"STRICT\"; found \"strict\"; did you mean \"STRICT\"?",
        "many-errors.yaml:12:18 spec.stages[1].requires[0]: expected one of \"all-callers-meshed\", \"baseline-healthy\", \"control-plane-ready\"; found \"all-callers-mesh\"; did you mean \"all-callers-meshed\"?",
      ],
    ],
    ["missing-apiversion.yaml", ["missing-apiversion.yaml:1:1 missing required field apiVersion; expected \"meshdrill.dev/v1alpha1\""]],
    ["missing-required.yaml", ["missing-required.yaml:6:3 spec.mesh: missing required field; expected a mapping"]],
    ["not-utf8.yaml", ["not-utf8.yaml:1:1 not a text file: found bytes that are not UTF-8; expected UTF-8 YAML"]],
    ["objective-negative.yaml", ["objective-negative.yaml:6:14 spec.objective: expected a threshold of zero or more; found \"<= -5ms\""]],
    ["objective-over-100.yaml", ["objective-over-100.yaml:6:14 spec.objective: expected a percentage from 0% to 100%; found \">= 120%\""]],
    ["objective-unit-mismatch.yaml", ["objective-unit-mismatch.yaml:6:14 spec.objective: latency-p99 is measured as a duration; expected an objective like \"<= 250ms\"; found \">= 99.9%\""]],
    ["percent-out-of-range.yaml", ["percent-out-of-range.yaml:10:51 spec.namespaces[0].services[0].calls[0].share: expected a percentage from 0% to 100%; found \"150%\""]],
    ["gate-cluster-without-fleet.yaml", ["gate-cluster-without-fleet.yaml:7:44 spec.steps[1].assert.cluster: names cluster \"east\", but game day \"drill\" runs on one cluster; a gate names a cluster only on a fleet"]],
    ["fleet-problems.yaml", [
      "fleet-problems.yaml:7:5 spec.fleet: only provider \"sim\" runs a fleet in a game day; provider \"kind\" would ignore it",
      "fleet-problems.yaml:9:16 spec.fleet.clusters[1].name: duplicate cluster name \"west\"; clusters[0] has it too",
      "fleet-problems.yaml:10:12 spec.fleet.entry: the entry shares add up to 90%; expected 100%",
      "fleet-problems.yaml:10:30 spec.fleet.entry.esat: unknown cluster \"esat\"; the fleet's clusters: west, west",
    ]],
    ["revert-unknown-fault.yaml", [
      "revert-unknown-fault.yaml:9:15 spec.steps[3].revert: no fault named \"ca-dwn\" is in at this step (in: ca-down); a fault with a duration is taken back when it ends, and a revert names one without; did you mean \"ca-down\"?",
      "revert-unknown-fault.yaml:10:15 spec.steps[4].revert: no fault named \"short\" is in at this step (in: ca-down); a fault with a duration is taken back when it ends, and a revert names one without",
    ]],
    ["relative-objective-without-baseline.yaml", ["relative-objective-without-baseline.yaml:15:45 spec.steps[0].assert.objective: a relative objective needs a baseline window before it; the load step with \"baseline: true\" is step 2, after this one"]],
    ["scalar-document.yaml", ["scalar-document.yaml:1:1 expected a mapping with apiVersion and kind; found \"just some words\""]],
    ["stage-out-of-range.yaml", ["stage-out-of-range.yaml:10:10 status.stage: expected a stage from 0 to 2; found 3"]],
    ["step-two-actions.yaml", ["step-two-actions.yaml:6:7 spec.steps[0]: expected exactly one action per step; found load and wait"]],
    ["syntax-unclosed-flow.yaml", ["syntax-unclosed-flow.yaml:4:1 YAML syntax error: Flow map in block collection must be sufficiently indented and end with a }"]],
    ["tabs.yaml", ["tabs.yaml:4:1 YAML syntax error: Tabs are not allowed as indentation"]],
    ["unknown-call-target.yaml", ["unknown-call-target.yaml:9:36 spec.namespaces[0].services[0].calls[0].to: unknown service \"web/ap\"; did you mean \"web/app\"?"]],
    ["unknown-field.yaml", ["unknown-field.yaml:9:7 spec.stages[0].bakee: unknown field; did you mean \"bake\"? (allowed: name, namespaces, mtls, bake, gates, requires)"]],
    ["unknown-kind.yaml", ["unknown-kind.yaml:2:7 kind: unknown kind \"RolloutPlna\"; did you mean \"RolloutPlan\"? (one of Topology, RolloutPlan, SLO, Fault, GameDay, Suite, Cluster, CheckConfig)"]],
    ["unsupported-apiversion.yaml", ["unsupported-apiversion.yaml:1:13 apiVersion: unsupported version; expected \"meshdrill.dev/v1alpha1\"; found \"meshdrill.dev/v2\""]],
    ["wrong-type-replicas.yaml", ["wrong-type-replicas.yaml:11:21 spec.namespaces[0].services[0].replicas: expected a number; found \"three\""]],];

describe('config loader on the bad-config corpus', () => {
  it('covers every file in the corpus', async () => {
    const files = (await readdir(CORPUS)).filter((f) => f.endsWith('.yaml')).sort();

    expect(EXPECTED.map(([file]) => file).sort()).toEqual(files);
    expect(files.length).toBeGreaterThanOrEqual(25);
  });

  it.each(EXPECTED)('%s', async (file, expected) => {
    const repo = await loadConfig(file, { cwd: CORPUS });

    expect(repo.diagnostics.map(renderDiagnostic)).toEqual(expected);
    expect(hasErrors(repo)).toBe(true);
  });

  it('reads several paths as one repo: a plan in one file names a topology and an SLO in others', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-paths-'));
    const doc = (kind: string, name: string, spec: unknown, extra = '') => `apiVersion: meshdrill.dev/v1alpha1\nkind: ${kind}\nmetadata: {name: ${name}}\nspec: ${JSON.stringify(spec)}\n${extra}`;
    await writeFile(join(dir, 'topology.yaml'), doc('Topology', 'shop', { entrypoints: [{ service: 'web/app', rps: 1 }], namespaces: [{ name: 'web', services: [{ name: 'app' }] }] }));
    await writeFile(join(dir, 'slos.yaml'), doc('SLO', 'web-availability', { sli: 'success-rate', objective: '>= 99%' }));
    await writeFile(join(dir, 'plan.yaml'), doc('RolloutPlan', 'plan', { mesh: { name: 'istio' }, topology: 'shop', stages: [{ name: 'web', namespaces: ['web'], gates: [{ slo: 'web-availability' }] }] }));

    const repo = await loadConfig(['plan.yaml', 'slos.yaml', 'topology.yaml'], { cwd: dir });

    expect(repo.diagnostics.map(renderDiagnostic)).toEqual([]);
    expect(repo.documents.map((d) => d.kind).sort()).toEqual(['RolloutPlan', 'SLO', 'Topology']);
  });

  it('refuses a 10 MB file before parsing it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-big-'));
    await writeFile(join(dir, 'huge.yaml'), `# ${'x'.repeat(10 * 1024 * 1024)}\n`);

    const messages = await messagesFor(join(dir, 'huge.yaml'));

    expect(messages).toEqual([`${join(dir, 'huge.yaml')}:1:1 file is 10.0 MiB; config files are limited to 4.0 MiB`]);
  });

  it('reports every problem of every file of a directory in one pass', async () => {
    const repo = await loadConfig('.', { cwd: CORPUS });

    const files = new Set(repo.diagnostics.filter((d) => d.severity === 'error').map((d) => d.file));
    expect(files.size).toBeGreaterThanOrEqual(30);
  });
});
