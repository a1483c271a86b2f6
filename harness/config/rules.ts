import { callOrder, formatDuration, parseDuration, parsePercent, portOf, portsOf, servicesByRef, SLI_UNAVAILABLE, SLI_UNITS, type Topology, type TopologyRequestClass } from '../../model/index.js';
import type { Step } from '../../suites/schema.js';
import { cronProblem, promqlProblem, providerVersionProblem } from './syntax.js';
import { isRelative, parseObjective, type Gate } from '../../slo/schema.js';
import type { Diagnostic, PathSegment, Severity } from './diagnostics.js';
import type { KindName } from './kinds.js';
import { didYouMean } from '../../core/index.js';
import { toDiagnostic, type LoadedDocument } from './validate.js';

/** What a rule sees: every valid document of the repo, by kind. */
export interface RuleContext {
  documents: LoadedDocument[];
  ofKind<K extends KindName>(kind: K): LoadedDocument<K>[];
  /** Names of every document of a kind, those with errors too: a reference to one of those is not "unknown". */
  names(kind: KindName): string[];
}

type Report = (doc: LoadedDocument, path: PathSegment[], message: string, severity?: Severity) => void;
type Rule = (ctx: RuleContext, report: Report) => void;

/** Cross-document and semantic rules; each pushes located diagnostics. Runs on schema-valid documents only. */
export function checkRules(documents: LoadedDocument[], invalid: ReadonlyArray<{ kind: KindName; name: string }> = []): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const ctx: RuleContext = {
    documents,
    ofKind: <K extends KindName>(kind: K) => documents.filter((d): d is LoadedDocument<K> => d.kind === kind),
    names: (kind) => [...documents.filter((d) => d.kind === kind).map((d) => d.name), ...invalid.filter((d) => d.kind === kind).map((d) => d.name)],
  };
  const report: Report = (doc, path, message, severity = 'error') => {
    diagnostics.push(toDiagnostic(doc.source, { path, message }, severity));
  };
  for (const rule of RULES) rule(ctx, report);
  return diagnostics;
}

const uniqueNames: Rule = (ctx, report) => {
  const seen = new Map<string, LoadedDocument>();
  for (const doc of ctx.documents) {
    const key = `${doc.kind}/${doc.name}`;
    const first = seen.get(key);
    if (first) {
      const { line } = toDiagnostic(first.source, { path: ['metadata', 'name'], message: '' });
      report(doc, ['metadata', 'name'], `duplicate ${doc.kind} "${doc.name}"; first defined at ${first.source.file}:${line}`);
    } else {
      seen.set(key, doc);
    }
  }
};

const topologyIntegrity: Rule = (ctx, report) => {
  for (const doc of ctx.ofKind('Topology')) {
    const spec = doc.data.spec;
    const namespaces = new Set<string>();
    for (const [n, ns] of spec.namespaces.entries()) {
      if (namespaces.has(ns.name)) report(doc, ['spec', 'namespaces', n, 'name'], `duplicate namespace "${ns.name}"`);
      namespaces.add(ns.name);
      const names = new Set<string>();
      for (const [s, svc] of ns.services.entries()) {
        if (names.has(svc.name)) report(doc, ['spec', 'namespaces', n, 'services', s, 'name'], `duplicate service "${ns.name}/${svc.name}"`);
        names.add(svc.name);
      }
    }
    const byRef = servicesByRef(doc.data);
    const refs = [...byRef.keys()];
    const known = new Set(refs);
    // A call or entrypoint names a port its callee has, and its request mix adds up to 100%.
    const checkTarget = (path: PathSegment[], to: string, port: number | string | undefined, requests: TopologyRequestClass[] | undefined) => {
      const callee = byRef.get(to)?.service;
      if (callee && port !== undefined && !portOf(callee, port)) report(doc, [...path, 'port'], `${to} has no port ${JSON.stringify(port)}; its ports: ${portsOf(callee).map((p) => `${p.name} (${p.port})`).join(', ')}`);
      if (requests) {
        const total = requests.reduce((sum, r) => sum + (parsePercent(r.share) ?? 0), 0);
        if (Math.abs(total - 100) > 0.01) report(doc, [...path, 'requests'], `the request shares add up to ${Number(total.toFixed(2))}%; expected 100%`);
      }
    };
    for (const [n, ns] of spec.namespaces.entries()) {
      for (const [s, svc] of ns.services.entries()) {
        const ports = svc.ports ?? [];
        ports.forEach((p, i) => {
          if (ports.findIndex((q) => q.name === p.name) !== i) report(doc, ['spec', 'namespaces', n, 'services', s, 'ports', i, 'name'], `duplicate port name "${p.name}"`);
          if (ports.findIndex((q) => q.port === p.port) !== i) report(doc, ['spec', 'namespaces', n, 'services', s, 'ports', i, 'port'], `duplicate port ${p.port}`);
        });
        for (const [c, call] of svc.calls.entries()) {
          const path: PathSegment[] = ['spec', 'namespaces', n, 'services', s, 'calls', c];
          if (!known.has(call.to)) report(doc, [...path, 'to'], unknownRef('service', call.to, refs));
          else checkTarget(path, call.to, call.port, call.requests);
        }
      }
    }
    for (const [e, entry] of spec.entrypoints.entries()) {
      if (!known.has(entry.service)) report(doc, ['spec', 'entrypoints', e, 'service'], unknownRef('service', entry.service, refs));
      else checkTarget(['spec', 'entrypoints', e], entry.service, entry.port, entry.requests);
    }
    const cycle = findCycle(doc.data);
    if (cycle) report(doc, ['spec', 'namespaces'], `the call graph has a cycle: ${cycle.join(' → ')}; requests would loop forever`);
  }
};

function findCycle(topology: Topology): string[] | undefined {
  const calls = new Map([...servicesByRef(topology)].map(([ref, { service }]) => [ref, service.calls.map((c) => c.to)]));
  return callOrder(calls).cycle;
}

function unknownRef(what: string, name: string, known: readonly string[]): string {
  return `unknown ${what} "${name}"${didYouMean(name, known)}`;
}

/** The topology a document refers to: by name, or the only one in the repo. */
function resolveTopology(ctx: RuleContext, doc: LoadedDocument, name: string | undefined, path: PathSegment[], report: Report): Topology | undefined {
  const topologies = ctx.ofKind('Topology');
  if (name !== undefined) {
    const found = topologies.find((t) => t.name === name);
    // A topology with errors of its own exists: only its own errors are reported.
    if (!found && !ctx.names('Topology').includes(name)) report(doc, path, unknownRef('Topology', name, topologies.map((t) => t.name)));
    return found?.data;
  }
  if (topologies.length > 1) {
    report(doc, path.slice(0, -1), `the repo has ${topologies.length} topologies (${topologies.map((t) => t.name).join(', ')}); name one with "topology"`);
    return undefined;
  }
  return topologies[0]?.data;
}

const rolloutPlans: Rule = (ctx, report) => {
  for (const doc of ctx.ofKind('RolloutPlan')) {
    const { spec, status } = doc.data;
    if (spec.mesh.name === 'linkerd' && spec.mesh.mode === 'ambient') report(doc, ['spec', 'mesh', 'mode'], 'Linkerd has no ambient mode; expected "sidecar"');
    if (status.stage > spec.stages.length) report(doc, ['status', 'stage'], `expected a stage from 0 to ${spec.stages.length}; found ${status.stage}`);
    const topology = resolveTopology(ctx, doc, spec.topology, ['spec', 'topology'], report);
    const namespaces = new Map(topology?.spec.namespaces.map((ns) => [ns.name, ns]));
    const stageNames = new Map<string, number>();
    const meshedBy = new Map<string, string>();
    for (const [s, stage] of spec.stages.entries()) {
      const base: PathSegment[] = ['spec', 'stages', s];
      const earlier = stageNames.get(stage.name);
      if (earlier !== undefined) report(doc, [...base, 'name'], `duplicate stage name "${stage.name}"; stages[${earlier}] has it too`);
      stageNames.set(stage.name, s);
      if (spec.maxNamespacesPerStage !== undefined && stage.namespaces.length > spec.maxNamespacesPerStage) {
        report(doc, [...base, 'namespaces'], `meshes ${stage.namespaces.length} namespaces; the plan allows at most ${spec.maxNamespacesPerStage} per stage`, 'warning');
      }
      for (const [n, name] of stage.namespaces.entries()) {
        const path = [...base, 'namespaces', n];
        const previous = meshedBy.get(name);
        if (previous !== undefined) report(doc, path, `namespace "${name}" is already meshed by stage "${previous}"`);
        meshedBy.set(name, stage.name);
        if (!topology) continue;
        const ns = namespaces.get(name);
        if (!ns) report(doc, path, unknownRef('namespace', name, [...namespaces.keys()]));
        else if (!ns.meshable) report(doc, path, `namespace "${name}" is marked meshable: false in the topology; its workloads cannot take a proxy`);
      }
      for (const [g, gate] of stage.gates.entries()) {
        checkGate(ctx, doc, [...base, 'gates', g], gate, topology, report);
        // An SLI this plan's mesh has no metric for can never be measured: say so now, not at the gate.
        const slo = gate.slo !== undefined ? ctx.ofKind('SLO').find((d) => d.name === gate.slo) : undefined;
        const sli = gate.sli ?? slo?.data.spec.sli;
        const unavailable = sli ? SLI_UNAVAILABLE[sli] : undefined;
        const ambient = spec.mesh.name === 'istio' && spec.mesh.mode === 'ambient';
        const why = ambient ? (unavailable?.ambient ?? unavailable?.istio) : unavailable?.[spec.mesh.name];
        if (why) report(doc, [...base, 'gates', g, gate.sli ? 'sli' : 'slo'], `${why}; this plan is on ${spec.mesh.name}${ambient ? ' ambient' : ''}${slo ? ` (SLO ${slo.name})` : ''}`);
      }
    }
  }
};

function checkGate(ctx: RuleContext, doc: LoadedDocument, path: PathSegment[], gate: Gate, topology: Topology | undefined, report: Report): void {
  if (gate.slo !== undefined) {
    const slos = ctx.names('SLO');
    if (!slos.includes(gate.slo)) report(doc, [...path, 'slo'], unknownRef('SLO', gate.slo, slos));
    if (gate.sli !== undefined) report(doc, [...path, 'sli'], 'a gate takes either "slo" (a reference) or "sli" with "objective", not both');
    return;
  }
  if (gate.sli === undefined || gate.objective === undefined) {
    report(doc, path, `missing required field ${gate.sli === undefined ? 'sli' : 'objective'}; a gate needs "slo" (a reference) or "sli" with "objective"`);
    return;
  }
  checkMeasurement(doc, path, gate, topology, report);
}

/** SLI/objective unit agreement, PromQL presence and scope references, shared by gates and SLO documents. */
function checkMeasurement(
  doc: LoadedDocument,
  path: PathSegment[],
  m: { sli?: keyof typeof SLI_UNITS; objective?: string; query?: string; scope?: Gate['scope'] },
  topology: Topology | undefined,
  report: Report,
): void {
  if (m.sli === undefined || m.objective === undefined) return;
  if (m.sli === 'promql' && m.query === undefined) report(doc, [...path, 'query'], 'missing required field; sli "promql" needs a PromQL query');
  const parsed = parseObjective(m.objective);
  if (parsed.ok) {
    const { unit, baseline } = parsed.objective;
    const sliUnit = SLI_UNITS[m.sli];
    const fits = unit === sliUnit || (baseline && (unit === 'percent' || unit === 'number'));
    if (!fits) report(doc, [...path, 'objective'], `${m.sli} is measured as ${UNIT_WORDS[sliUnit]}; expected an objective like ${UNIT_EXAMPLES[sliUnit]}; found "${m.objective}"`);
  }
  if (!topology || !m.scope) return;
  const namespaces = topology.spec.namespaces.map((ns) => ns.name);
  const services = [...servicesByRef(topology).keys()];
  const scopePath = [...path, 'scope'];
  if (m.scope.namespace !== undefined && !namespaces.includes(m.scope.namespace)) report(doc, [...scopePath, 'namespace'], unknownRef('namespace', m.scope.namespace, namespaces));
  if (m.scope.service !== undefined && !services.includes(m.scope.service)) report(doc, [...scopePath, 'service'], unknownRef('service', m.scope.service, services));
  for (const end of ['from', 'to'] as const) {
    const ref = m.scope.edge?.[end];
    if (ref !== undefined && !services.includes(ref)) report(doc, [...scopePath, 'edge', end], unknownRef('service', ref, services));
  }
}

const UNIT_WORDS = { percent: 'a percentage', duration: 'a duration', bytes: 'a size in bytes', number: 'a plain number' } as const;
const UNIT_EXAMPLES = { percent: '">= 99.9%"', duration: '"<= 250ms"', bytes: '"<= 128MiB"', number: '"<= 0.2"' } as const;

const sloDocuments: Rule = (ctx, report) => {
  for (const doc of ctx.ofKind('SLO')) {
    const topology = ctx.ofKind('Topology').length === 1 ? ctx.ofKind('Topology')[0]?.data : undefined;
    checkMeasurement(doc, ['spec'], doc.data.spec, topology, report);
  }
};

const clusters: Rule = (ctx, report) => {
  for (const doc of ctx.ofKind('Cluster')) {
    const spec = doc.data.spec;
    if (spec.provider === 'kubeconfig' && !spec.kubeconfig) report(doc, ['spec', 'kubeconfig'], 'missing required field; provider "kubeconfig" needs kubeconfig.context');
    if (spec.provider !== 'kubeconfig' && spec.kubeconfig) report(doc, ['spec', 'kubeconfig'], `ignored: provider "${spec.provider}" makes its own kubeconfig`, 'warning');
    for (const field of ['images', 'portMappings'] as const) if (spec[field] && spec.provider !== 'kind') report(doc, ['spec', field], `only provider "kind" uses ${field}; provider "${spec.provider}" would ignore it`);
    const fleet = spec.fleet;
    if (!fleet) continue;
    // The kind fleet (several kind clusters as one mesh) is a library function today; game days run fleets on the embedded cluster.
    if (spec.provider !== 'sim') report(doc, ['spec', 'fleet'], `only provider "sim" runs a fleet in a game day; provider "${spec.provider}" would ignore it`);
    const names = fleet.clusters.map((c) => c.name);
    for (const [i, name] of names.entries()) if (names.indexOf(name) !== i) report(doc, ['spec', 'fleet', 'clusters', i, 'name'], `duplicate cluster name "${name}"; clusters[${names.indexOf(name)}] has it too`);
    if (fleet.entry) {
      for (const name of Object.keys(fleet.entry)) if (!names.includes(name)) report(doc, ['spec', 'fleet', 'entry', name], `unknown cluster "${name}"${didYouMean(name, names)}; the fleet's clusters: ${names.join(', ')}`);
      const total = Object.values(fleet.entry).reduce((sum, share) => sum + (parsePercent(share) ?? 0), 0);
      if (Math.abs(total - 100) > 1e-9) report(doc, ['spec', 'fleet', 'entry'], `the entry shares add up to ${total}%; expected 100%`);
    }
  }
  // A rollout plan's gates are measured where the gate runs (one cluster, one Prometheus).
  for (const doc of ctx.ofKind('RolloutPlan')) {
    for (const [i, stage] of doc.data.spec.stages.entries()) for (const [g, gate] of stage.gates.entries()) if (gate.cluster !== undefined) report(doc, ['spec', 'stages', i, 'gates', g, 'cluster'], 'a rollout plan\'s gates are measured where the gate runs; cluster names a fleet\'s cluster in a game day only');
  }
  // A fleet is Istio multi-primary: a game day on one needs an Istio sidecar plan; its gates may name its clusters.
  for (const doc of ctx.ofKind('GameDay')) {
    const cluster = ctx.ofKind('Cluster').find((c) => c.name === doc.data.spec.cluster);
    const plan = ctx.ofKind('RolloutPlan').find((p) => p.name === doc.data.spec.plan);
    const members = cluster?.data.spec.fleet?.clusters.map((c) => c.name);
    const named = (gate: { cluster?: string | undefined }, path: PathSegment[]) => {
      if (gate.cluster === undefined) return;
      if (!members) report(doc, [...path, 'cluster'], `names cluster "${gate.cluster}", but game day "${doc.name}" runs on one cluster; a gate names a cluster only on a fleet`);
      else if (!members.includes(gate.cluster)) report(doc, [...path, 'cluster'], `unknown cluster "${gate.cluster}"${didYouMean(gate.cluster, members)}; the fleet's clusters: ${members.join(', ')}`);
    };
    const spec = doc.data.spec;
    spec.hypotheses.forEach((h, i) => h.gates.forEach((g, j) => named(g, ['spec', 'hypotheses', i, 'gates', j])));
    spec.abort.forEach((a, i) => named(a, ['spec', 'abort', i]));
    spec.steps.forEach((step, i) => step.assert && named(step.assert, ['spec', 'steps', i, 'assert']));
    if (!cluster?.data.spec.fleet || !plan) continue;
    const mesh = plan.data.spec.mesh;
    if (mesh.name !== 'istio' || mesh.mode !== 'sidecar') report(doc, ['spec', 'cluster'], `cluster "${cluster.name}" is a fleet, which meshdrill runs as Istio multi-primary with sidecars; plan "${plan.name}" is ${mesh.name}${mesh.name === 'istio' ? ` ${mesh.mode}` : ''}`);
  }
};

const runs: Rule = (ctx, report) => {
  for (const doc of [...ctx.ofKind('GameDay'), ...ctx.ofKind('Suite')]) {
    const spec = doc.data.spec;
    const refs: Array<[KindName, string | undefined, PathSegment[]]> = [
      ['Cluster', spec.cluster, ['spec', 'cluster']],
      ['RolloutPlan', spec.plan, ['spec', 'plan']],
    ];
    for (const [kind, name, path] of refs) {
      const names = ctx.names(kind);
      if (name !== undefined && !names.includes(name)) report(doc, path, unknownRef(kind, name, names));
    }
    const topology = resolveTopology(ctx, doc, spec.topology, ['spec', 'topology'], report);
    const steps = doc.kind === 'GameDay'
      ? (doc as LoadedDocument<'GameDay'>).data.spec.steps.map((step, i) => ({ step, path: ['spec', 'steps', i] as PathSegment[] }))
      : (doc as LoadedDocument<'Suite'>).data.spec.steps.flatMap((s, i) =>
          (['try', 'catch', 'finally'] as const).flatMap((part) => s[part].map((step, j) => ({ step, path: ['spec', 'steps', i, part, j] as PathSegment[] }))),
        );
    // Relative objectives ("<= baseline + 5ms") need a baseline window: a load step marked
    // `baseline: true`, before any assert that uses one.
    const baselineAt = steps.findIndex(({ step }) => step.load?.baseline === true);
    const relative = (gate: Gate) => isRelative(gate.objective ?? ctx.ofKind('SLO').find((s) => s.name === gate.slo)?.data.spec.objective ?? '');
    const needsBaseline = (gate: Gate, at: PathSegment[], before: number) => {
      if (!relative(gate)) return;
      const field = gate.objective !== undefined ? 'objective' : 'slo';
      if (baselineAt < 0) report(doc, [...at, field], `a relative objective needs a baseline window, and this ${doc.kind} has none; add "baseline: true" to the load step that measures it`);
      else if (baselineAt > before) report(doc, [...at, field], `a relative objective needs a baseline window before it; the load step with "baseline: true" is step ${baselineAt + 1}, after this one`);
    };
    for (const [s, { step, path }] of steps.entries()) {
      if (step.assert && (step.assert.slo !== undefined || step.assert.sli !== undefined)) needsBaseline(step.assert, [...path, 'assert'], s);
    }
    if (doc.kind === 'GameDay') {
      const gameDay = (doc as LoadedDocument<'GameDay'>).data.spec;
      for (const [h, hypothesis] of gameDay.hypotheses.entries()) for (const [g, gate] of hypothesis.gates.entries()) needsBaseline(gate, ['spec', 'hypotheses', h, 'gates', g], steps.length);
      for (const [a, abort] of gameDay.abort.entries()) needsBaseline(abort, ['spec', 'abort', a], steps.length);
    }
    // A revert step names a fault still in: an earlier one without a duration (by its name, or its type).
    const lasting: string[] = [];
    for (const { step, path } of steps) {
      const fault = step.fault;
      if (fault && !fault.duration) lasting.push('use' in fault ? fault.use : (fault.name ?? fault.type));
      if (step.revert === undefined) continue;
      const at = lasting.indexOf(step.revert);
      if (at >= 0) lasting.splice(at, 1);
      else report(doc, [...path, 'revert'], `no fault named "${step.revert}" is in at this step (in: ${lasting.join(', ') || 'none'}); a fault with a duration is taken back when it ends, and a revert names one without${didYouMean(step.revert, lasting)}`);
    }
    for (const { step, path } of steps) {
      const reachability = step.assert?.reachability;
      // An assert may be a reachability matrix alone, a gate, or both.
      const gateless = step.assert !== undefined && step.assert.slo === undefined && step.assert.sli === undefined && (reachability !== undefined || step.assert.mtlsAsPlanned === true);
      if (step.assert && !gateless) checkGate(ctx, doc, [...path, 'assert'], step.assert, topology, report);
      if (reachability && topology) {
        const services = [...servicesByRef(topology).keys()];
        for (const [r, pair] of reachability.entries()) {
          for (const end of ['from', 'to'] as const) if (!services.includes(pair[end])) report(doc, [...path, 'assert', 'reachability', r, end], unknownRef('service', pair[end], services));
        }
      }
      const fault = step.fault;
      if (fault && 'use' in fault) {
        const names = ctx.names('Fault');
        if (!names.includes(fault.use)) report(doc, [...path, 'fault', 'use'], unknownRef('Fault', fault.use, names));
      }
      if (fault && 'type' in fault && topology) {
        const namespaces = topology.spec.namespaces.map((ns) => ns.name);
        const listed = 'namespaces' in fault ? fault.namespaces : [];
        for (const [n, ns] of listed.entries()) {
          if (!namespaces.includes(ns)) report(doc, [...path, 'fault', 'namespaces', n], unknownRef('namespace', ns, namespaces));
        }
      }
    }
    if (doc.kind === 'GameDay') {
      const gameDay = (doc as LoadedDocument<'GameDay'>).data.spec;
      for (const [h, hypothesis] of gameDay.hypotheses.entries()) {
        for (const [g, gate] of hypothesis.gates.entries()) checkGate(ctx, doc, ['spec', 'hypotheses', h, 'gates', g], gate, topology, report);
      }
      for (const [a, abort] of gameDay.abort.entries()) checkGate(ctx, doc, ['spec', 'abort', a], abort, topology, report);
    }
  }
};

/** More cluster time than this, in one step or a whole run, needs the document's `allowLong: true`. */
export const LONG_MS = 24 * 3_600_000;

/**
 * Durations cluster time cannot reach sensibly: a step or bake over 24 h, or a game day or suite
 * whose steps add up to more, is almost always a typo ("10000h") that would run for hours.
 */
const longDurations: Rule = (ctx, report) => {
  const check = (doc: LoadedDocument, allowLong: boolean, path: PathSegment[], text: string | undefined) => {
    const ms = text === undefined ? undefined : parseDuration(text);
    if (ms !== undefined && ms > LONG_MS && !allowLong) report(doc, path, `${text} is over 24 hours of cluster time; set spec.allowLong: true if that is meant`);
    return ms ?? 0;
  };
  const steps = (doc: LoadedDocument, allowLong: boolean, list: Array<{ step: Step; path: PathSegment[] }>) => {
    let total = 0;
    for (const { step, path } of list) {
      if (step.wait !== undefined) total += check(doc, allowLong, [...path, 'wait'], step.wait);
      if (step.load) total += check(doc, allowLong, [...path, 'load', 'duration'], step.load.duration) + check(doc, allowLong, [...path, 'load', 'warmUp'], step.load.warmUp);
      if (step.fault && 'duration' in step.fault && step.fault.duration !== undefined) total += check(doc, allowLong, [...path, 'fault', 'duration'], step.fault.duration);
    }
    if (total > LONG_MS && !allowLong) report(doc, ['spec', 'steps'], `the steps add up to ${formatDuration(total)} of cluster time, over 24 hours; set spec.allowLong: true if that is meant`);
  };
  for (const doc of ctx.ofKind('GameDay')) steps(doc, doc.data.spec.allowLong, doc.data.spec.steps.map((step, i) => ({ step, path: ['spec', 'steps', i] })));
  for (const doc of ctx.ofKind('Suite')) steps(doc, doc.data.spec.allowLong, doc.data.spec.steps.flatMap((s, i) => (['try', 'catch', 'finally'] as const).flatMap((part) => s[part].map((step, j) => ({ step, path: ['spec', 'steps', i, part, j] })))));
  for (const doc of ctx.ofKind('RolloutPlan')) {
    check(doc, doc.data.spec.allowLong, ['spec', 'baseline', 'window'], doc.data.spec.baseline.window);
    for (const [i, stage] of doc.data.spec.stages.entries()) check(doc, doc.data.spec.allowLong, ['spec', 'stages', i, 'bake'], stage.bake);
  }
};

/** A schedule cron itself can run: parsed by croner, the same reading a scheduler gives it. */
const schedules: Rule = (ctx, report) => {
  for (const doc of ctx.ofKind('GameDay')) {
    const schedule = doc.data.spec.schedule;
    if (schedule === undefined) continue;
    const problem = cronProblem(schedule);
    if (problem) report(doc, ['spec', 'schedule'], `${problem}; found "${schedule}"`);
  }
};

/** PromQL in sli "promql" queries, parsed by Prometheus's own grammar (lezer-promql), with the column of the first error. */
const promqlQueries: Rule = (ctx, report) => {
  const check = (doc: LoadedDocument, path: PathSegment[], sli: string | undefined, query: string | undefined) => {
    if (sli !== 'promql' || query === undefined) return;
    const problem = promqlProblem(query);
    if (problem) report(doc, [...path, 'query'], problem);
  };
  for (const doc of ctx.ofKind('SLO')) check(doc, ['spec'], doc.data.spec.sli, doc.data.spec.query);
  for (const doc of ctx.ofKind('RolloutPlan')) for (const [i, stage] of doc.data.spec.stages.entries()) for (const [g, gate] of stage.gates.entries()) check(doc, ['spec', 'stages', i, 'gates', g], gate.sli, gate.query);
  for (const doc of ctx.ofKind('GameDay')) {
    for (const [h, hypothesis] of doc.data.spec.hypotheses.entries()) for (const [g, gate] of hypothesis.gates.entries()) check(doc, ['spec', 'hypotheses', h, 'gates', g], gate.sli, gate.query);
    for (const [a, abort] of doc.data.spec.abort.entries()) check(doc, ['spec', 'abort', a], abort.sli, abort.query);
    for (const [s, step] of doc.data.spec.steps.entries()) if (step.assert) check(doc, ['spec', 'steps', s, 'assert'], step.assert.sli, step.assert.query);
  }
};

/**
 * What the providers would refuse at run time, refused here first: a Kubernetes version kind or
 * k3s has no image for, and a made cluster (kind, k3s) without the mesh version its install pins.
 */
const providers: Rule = (ctx, report) => {
  for (const doc of ctx.ofKind('Cluster')) {
    const spec = doc.data.spec;
    if (spec.provider !== 'kind' && spec.provider !== 'k3s') continue;
    const problem = providerVersionProblem(spec.provider, spec.kubernetesVersion);
    if (problem) report(doc, ['spec', 'kubernetesVersion'], problem);
  }
  for (const doc of ctx.ofKind('GameDay')) {
    const cluster = ctx.ofKind('Cluster').find((c) => c.name === doc.data.spec.cluster);
    if (!cluster || (cluster.data.spec.provider !== 'kind' && cluster.data.spec.provider !== 'k3s')) continue;
    const plan = ctx.ofKind('RolloutPlan').find((p) => p.name === doc.data.spec.plan);
    if (plan && !plan.data.spec.mesh.version) report(plan, ['spec', 'mesh', 'version'], `game day "${doc.name}" runs on ${cluster.data.spec.provider} cluster "${cluster.name}", where the mesh is installed with its own tools: pin its version (e.g. version: 1.27.1) so the install is reproducible`);
  }
};

const RULES: Rule[] = [uniqueNames, topologyIntegrity, rolloutPlans, sloDocuments, clusters, runs, longDurations, schedules, promqlQueries, providers];
