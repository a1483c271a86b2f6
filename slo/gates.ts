import { defaultMinSamples, parseDuration, type SliKey } from '../model/index.js';
import { evaluate } from './evaluate.js';
import type { Gate, Scope, Slo, SliSourceKind } from './schema.js';
import type { Evaluation, Measurement, SliSource, Window } from './types.js';

/** A gate with its SLO reference resolved: everything needed to measure and judge it. */
export interface ResolvedGate {
  name: string;
  sli: SliKey;
  scope: Scope;
  objective: string;
  windowMs: number;
  minSamples: number;
  source: SliSourceKind;
  query?: string;
  /** On a fleet: the cluster whose sources measure it. */
  cluster?: string;
  key: boolean;
  failureLimit: number;
  inconclusiveLimit: number;
  consecutiveSuccessLimit: number;
}

/** The sources a gate can be measured from, by whose view they give. */
export interface GateSources {
  mesh: SliSource;
  /** The callers' view; absent where no such source exists (then `source: client` gates are Error). */
  client?: SliSource;
  /** On a fleet: each cluster's own sources, for gates that name a cluster. */
  clusters?: Record<string, GateSources>;
}

export function scopeText(scope: Scope): string {
  if (scope.edge) return `${scope.edge.from} → ${scope.edge.to}`;
  return scope.service ?? scope.namespace ?? 'mesh';
}

/**
 * Resolves a gate against the repo's SLOs; the gate's own fields override the SLO's. Config
 * validation has already checked the reference, so a missing SLO here is a programming error.
 */
export function resolveGate(gate: Gate, slos: Slo[]): ResolvedGate {
  const slo = gate.slo === undefined ? undefined : slos.find((s) => s.metadata.name === gate.slo);
  if (gate.slo !== undefined && !slo) throw new Error(`gate names SLO "${gate.slo}", which is not loaded`);
  const sli = gate.sli ?? slo?.spec.sli;
  const objective = gate.objective ?? slo?.spec.objective;
  if (!sli || !objective) throw new Error('gate has neither an SLO reference nor sli and objective');
  const scope = gate.scope ?? slo?.spec.scope ?? {};
  const query = gate.query ?? slo?.spec.query;
  return {
    name: gate.slo ?? `${sli} ${scopeText(scope)}`,
    sli,
    scope,
    objective,
    windowMs: parseDuration(gate.window ?? slo?.spec.window ?? '5m') ?? 300_000,
    minSamples: gate.minSamples ?? slo?.spec.minSamples ?? defaultMinSamples(sli),
    source: gate.source ?? slo?.spec.source ?? 'mesh',
    ...(query ? { query } : {}),
    ...(gate.cluster ? { cluster: gate.cluster } : {}),
    key: gate.key,
    failureLimit: gate.failureLimit,
    inconclusiveLimit: gate.inconclusiveLimit,
    consecutiveSuccessLimit: gate.consecutiveSuccessLimit,
  };
}

/** Measures a gate's SLI over a window from the source its view asks for. */
export async function measureGate(gate: ResolvedGate, all: GateSources, window: Window): Promise<Measurement> {
  const sources = gate.cluster ? all.clusters?.[gate.cluster] : all;
  if (!sources) return { value: Number.NaN, samples: 0, window, source: gate.source, error: all.clusters ? `no cluster ${gate.cluster} in this fleet (${Object.keys(all.clusters).join(', ')})` : `gate ${gate.name} names cluster ${gate.cluster}; only a fleet has clusters to choose from` };
  const source = gate.source === 'client' ? sources.client : sources.mesh;
  if (!source) return { value: Number.NaN, samples: 0, window, source: gate.source, error: `no ${gate.source} source here for gate ${gate.name}` };
  return source.measure(gate.sli, gate.scope, window, gate.query ? { query: gate.query } : undefined);
}

/**
 * A gate's SLI where the mesh may not see it yet (a baseline before meshing, an unmeshed namespace
 * in a game day or a check): a mesh-view measurement with no data falls back to the callers' view
 * of the same SLI, whose source the measurement names.
 */
export async function measureWithCallersFallback(gate: ResolvedGate, all: GateSources, window: Window): Promise<Measurement> {
  const own = await measureGate(gate, all, window);
  const sources = (gate.cluster ? all.clusters?.[gate.cluster] : all) ?? all;
  if (gate.source === 'client' || !sources.client || (Number.isFinite(own.value) && own.samples > 0)) return own;
  const client = await sources.client.measure(gate.sli, gate.scope, window);
  return Number.isFinite(client.value) ? client : own;
}

/** Measures and judges a gate in one step. */
export async function evaluateGate(gate: ResolvedGate, sources: GateSources, window: Window, baseline?: Measurement): Promise<Evaluation> {
  const measurement = await measureGate(gate, sources, window);
  return evaluate(gate.sli, gate.scope, gate.objective, measurement, { minSamples: gate.minSamples, ...(baseline ? { baseline } : {}) });
}
