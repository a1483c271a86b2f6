import { z } from 'zod';
import { DnsName, documentSchema } from '../model/document.js';
import { Duration } from '../model/quantity.js';
import { ServiceRef } from '../model/topology.js';
import { parseObjective, OBJECTIVE_HINT } from './objective.js';
import { SLI_NAMES } from './sli.js';

export const SliName = z.enum(SLI_NAMES).describe('What is measured.');
export type SliName = z.infer<typeof SliName>;

export const ObjectiveText = z
  .string()
  .superRefine((text, ctx) => {
    const result = parseObjective(text);
    if (!result.ok) ctx.addIssue({ code: 'custom', message: result.message });
  })
  .describe(`The target: ${OBJECTIVE_HINT}. Relative objectives compare with the baseline window measured before the stage.`);

export const Scope = z
  .object({
    namespace: DnsName.optional().describe('All services of one namespace.'),
    service: ServiceRef.optional().describe('One service, "namespace/service".'),
    edge: z
      .object({ from: ServiceRef, to: ServiceRef })
      .strict()
      .optional()
      .describe('Calls from one service to another.'),
  })
  .strict()
  .refine((scope) => [scope.namespace, scope.service, scope.edge].filter((x) => x !== undefined).length <= 1, {
    error: 'expected at most one of namespace, service, edge (none means the whole mesh)',
  })
  .describe('Where an SLI is measured: the whole mesh (empty), a namespace, a service or an edge.');
export type Scope = z.infer<typeof Scope>;

/** Whose view an SLI is measured from. */
export const SliSourceKind = z
  .enum(['mesh', 'client'])
  .describe('mesh: the proxies\' telemetry (the default). client: the callers\' own view — sees connections reset before any proxy reports them, and exists before a namespace is meshed.');
export type SliSourceKind = z.infer<typeof SliSourceKind>;

export const SloSpec = z
  .object({
    sli: SliName,
    scope: Scope.default({}),
    source: SliSourceKind.default('mesh'),
    objective: ObjectiveText,
    window: Duration.default('5m').describe('Evaluation window.'),
    minSamples: z.int().min(1).default(100).describe('Fewer requests than this in the window make the verdict Inconclusive.'),
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
    minSamples: z.int().min(1).optional(),
    query: z.string().min(1).optional(),
    source: SliSourceKind.optional().describe('Overrides the SLO\'s source.'),
    key: z.boolean().default(false).describe('A key gate fails the stage on its own.'),
    failureLimit: z.int().min(0).default(0).describe('Failed measurements tolerated before the gate fails.'),
    inconclusiveLimit: z.int().min(0).default(0).describe('Inconclusive measurements tolerated before the verdict is hold.'),
    consecutiveSuccessLimit: z.int().min(1).default(1).describe('Consecutive successful measurements needed to pass.'),
  })
  .strict()
  .describe('A check that must hold over the bake window before a stage advances.');
export type Gate = z.infer<typeof Gate>;
