import { z } from 'zod';
import { DnsName, documentSchema, Duration, ServiceRef } from '../model/index.js';
// Schemas import schemas: each folder's schema.ts is a light entry point (zod only), so loading
// and validating config does not load the engines.
import { FaultSpec } from '../chaos/schema.js';
import { MeshSelection } from '../rollout/schema.js';
import { Gate, ON_NO_DATA } from '../slo/schema.js';
import { LoadSpec } from '../load/schema.js';

export { LoadSpec };

export const STEP_VERBS = ['provision', 'install', 'deploy', 'stage', 'load', 'fault', 'revert', 'assert', 'wait'] as const;
export type StepVerb = (typeof STEP_VERBS)[number];

export const FaultRef = z
  .object({ use: DnsName.describe('Name of a Fault document.'), duration: Duration.optional() })
  .strict()
  .describe('A fault defined in a Fault document.');

export const ReachabilityExpectation = z
  .object({
    from: ServiceRef,
    to: ServiceRef,
    expect: z.enum(['allowed', 'denied']),
    mtls: z.boolean().optional().describe('Expected transport for allowed calls.'),
  })
  .strict();

const OnNoDataField = z
  .enum(ON_NO_DATA)
  .default('fail')
  .describe('What no data (or too few samples) means: fail (the default: silence is never success), inconclusive (the run ends Inconclusive), or ignore (not counted; the run warns).');

export const AssertSpec = Gate.extend({
  reachability: z.array(ReachabilityExpectation).optional().describe('Expected outcome per (source, destination) pair.'),
  mtlsAsPlanned: z.literal(true).optional().describe('The mesh\'s mTLS policies are exactly what the plan\'s live stage renders: no emergency relaxation (PERMISSIVE, DISABLE, plaintext DestinationRules) outlived the incident.'),
  onNoData: OnNoDataField,
}).describe('An SLO gate or reachability expectation checked at this point.');

export const Step = z
  .object({
    name: z.string().min(1).optional().describe('Shown in progress and reports.'),
    timeout: Duration.optional().describe('Overrides the inherited timeout for this step.'),
    provision: z.object({ cluster: DnsName.optional().describe('Name of a Cluster document; default: the embedded cluster.') }).strict().optional(),
    install: z
      .object({
        mesh: MeshSelection.optional().describe('Defaults to the rollout plan\'s mesh.'),
        certLifetime: Duration.optional().describe('Workload certificate lifetime; short lifetimes compress CA-loss game days.'),
        controlPlaneReplicas: z.int().min(1).max(10).optional().describe('Run the control plane with this many replicas, each component with a PodDisruptionBudget keeping one available (the high-availability setup).'),
      })
      .strict()
      .optional(),
    deploy: z.object({ topology: DnsName.optional() }).strict().optional(),
    stage: z
      .object({
        plan: DnsName.optional(),
        to: z.union([z.int().min(0), z.enum(['next', 'current'])]).describe('Stage number to reach, or next/current.'),
      })
      .strict()
      .optional(),
    load: LoadSpec.optional(),
    fault: z.union([FaultRef, FaultSpec]).optional(),
    assert: AssertSpec.optional(),
    revert: DnsName.optional().describe('Take back a fault injected without a duration, by its name, before the run ends (faults without one otherwise last until then).'),
    wait: Duration.optional().describe('Let virtual (or real) time pass.'),
  })
  .strict()
  .superRefine((step, ctx) => {
    const verbs = STEP_VERBS.filter((verb) => step[verb] !== undefined);
    if (verbs.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: verbs.length === 0
          ? `expected one of ${STEP_VERBS.join(', ')}`
          : `expected exactly one action per step; found ${verbs.join(' and ')}`,
      });
    }
  })
  .describe('One action of a game day or suite: provision, install, deploy, stage, load, fault, revert, assert or wait.');
export type Step = z.infer<typeof Step>;

const CRON = /^(\S+\s+){4}\S+$|^@(hourly|daily|weekly|monthly|yearly)$/;

export const Hypothesis = z
  .object({
    name: DnsName,
    description: z.string().optional(),
    gates: z.array(Gate).min(1, { error: 'expected at least one gate' }),
    onNoData: OnNoDataField,
  })
  .strict()
  .describe('A steady-state hypothesis: gates that must hold before, during and after the faults.');

export const AbortCondition = Gate.extend({
  consecutive: z.int().min(1).default(3).describe('Abort after this many failed evaluations in a row.'),
}).describe('Stop the run and revert at once when this gate fails repeatedly.');

export const GameDaySpec = z
  .object({
    schedule: z.string().regex(CRON, { error: 'expected a cron expression like "0 6 * * 1"' }).optional(),
    cluster: DnsName.optional().describe('Name of a Cluster document; default: the embedded cluster.'),
    topology: DnsName.optional(),
    plan: DnsName.optional().describe('Rollout plan whose mesh and stages the game day uses.'),
    seed: z.int().min(0).default(1).describe('Seed for everything random; a run is deterministic for a seed on the embedded cluster.'),
    allowLong: z.boolean().default(false).describe('Allow steps, and a run, longer than 24 hours of cluster time (validate refuses them otherwise).'),
    hypotheses: z.array(Hypothesis).default([]),
    steadyState: z
      .object({
        window: Duration.optional().describe('Over how long the hypotheses must hold before the first fault; default: the baseline load window, else each gate\'s own window.'),
      })
      .strict()
      .default({})
      .describe('No steady state, no experiment: before the first fault every hypothesis must hold, or no fault is injected and the run ends steady-state-not-met.'),
    abort: z.array(AbortCondition).default([]),
    steps: z.array(Step).min(1, { error: 'expected at least one step' }),
  })
  .strict();

export const GameDay = documentSchema('GameDay', GameDaySpec, 'A scheduled rehearsal: steps, faults and the hypotheses they test.');
export type GameDay = z.infer<typeof GameDay>;

export const SuiteStep = z
  .object({
    name: z.string().min(1),
    timeout: Duration.optional(),
    try: z.array(Step).min(1, { error: 'expected at least one operation' }),
    catch: z.array(Step).default([]).describe('Runs when try fails: diagnostics.'),
    finally: z.array(Step).default([]).describe('Always runs: cleanup.'),
  })
  .strict();

export const SuiteSpec = z
  .object({
    cluster: DnsName.optional(),
    topology: DnsName.optional(),
    plan: DnsName.optional(),
    timeout: Duration.default('5m').describe('Default per-operation timeout, inherited by steps and operations.'),
    seed: z.int().min(0).default(1),
    allowLong: z.boolean().default(false).describe('Allow operations, and a run, longer than 24 hours of cluster time.'),
    steps: z.array(SuiteStep).min(1, { error: 'expected at least one step' }),
  })
  .strict();

export const Suite = documentSchema('Suite', SuiteSpec, 'An ordered test of mesh behaviour with try/catch/finally steps.');
export type Suite = z.infer<typeof Suite>;

export { CheckConfig } from './check/config.js';
