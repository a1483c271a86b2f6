import { z } from 'zod';
import { DnsName, documentSchema, Duration, Scope, SliName, SliSourceKind } from '../model/index.js';
import { parseObjective, OBJECTIVE_HINT } from './objective.js';

// The SLI vocabulary (names, units, scopes) is model: meshes render queries for it, slo evaluates it.
export { Scope, SliName, SliSourceKind };
// The objective grammar is part of the documents: validation parses objectives as the engines do.
export { isRelative, parseObjective } from './objective.js';
export { ON_NO_DATA, type OnNoData } from './evidence.js';

export const ObjectiveText = z
  .string()
  .superRefine((text, ctx) => {
    const result = parseObjective(text);
    if (!result.ok) ctx.addIssue({ code: 'custom', message: result.message });
  })
  .describe(`The target: ${OBJECTIVE_HINT}. Relative objectives compare with the baseline window measured before the stage.`);

export const SloSpec = z
  .object({
    sli: SliName,
    scope: Scope.default({}),
    source: SliSourceKind.default('mesh'),
    objective: ObjectiveText,
    window: Duration.default('5m').describe('Evaluation window.'),
    minSamples: z.int().min(1).optional().describe('Fewer samples than this in the window make the verdict Inconclusive. Default: 100 for SLIs counted in requests, 1 for gauges read per proxy or certificate (cert-min-remaining, proxy-config-age, proxy-memory, proxy-cpu, proxy-restarts, tls-handshake-failures, telemetry-ingestion, promql).'),
    query: z.string().min(1).optional().describe('PromQL, required when sli is "promql".'),
  })
  .strict();

export const Slo = documentSchema('SLO', SloSpec, 'A service level objective: an SLI in a scope, with an objective over a window.');
export type Slo = z.infer<typeof Slo>;

/** A gate: either a reference to an SLO document or an inline SLI with an objective. */
export const Gate = z
  .object({
    slo: DnsName.optional().describe('Name of an SLO document to evaluate.'),
    sli: SliName.optional(),
    scope: Scope.optional(),
    objective: ObjectiveText.optional(),
    window: Duration.optional().describe('Overrides the SLO\'s window.'),
    minSamples: z.int().min(1).optional().describe('Overrides the SLO\'s minSamples.'),
    query: z.string().min(1).optional(),
    source: SliSourceKind.optional().describe('Overrides the SLO\'s source.'),
    cluster: DnsName.optional().describe('On a fleet: the cluster whose metrics are read (default the first).'),
    key: z.boolean().default(false).describe('A key gate fails the stage on its own.'),
    failureLimit: z.int().min(0).default(0).describe('Failed measurements tolerated before the gate fails.'),
    inconclusiveLimit: z.int().min(0).default(0).describe('Inconclusive measurements tolerated before the verdict is hold.'),
    consecutiveSuccessLimit: z.int().min(1).default(1).describe('Consecutive successful measurements needed to pass.'),
  })
  .strict()
  .describe('A check that must hold over the bake window before a stage advances.');
export type Gate = z.infer<typeof Gate>;
