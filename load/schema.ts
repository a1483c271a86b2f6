import { z } from 'zod';
import { Duration, ServiceRef } from '../model/index.js';

export const LoadSpec = z
  .object({
    rps: z.number().positive().max(1_000_000).optional().describe('Total arrival rate; defaults to the topology\'s entrypoint rates.'),
    duration: Duration.describe('How long load runs.'),
    rampUp: Duration.optional().describe('Linear ramp from zero to the full rate.'),
    warmUp: Duration.default('30s').describe('Excluded from statistics.'),
    entrypoints: z.array(ServiceRef).optional().describe('Where load enters; defaults to the topology\'s entrypoints.'),
    baseline: z
      .boolean()
      .default(false)
      .describe('This load (after its warm-up) is the baseline window: relative objectives such as "<= baseline + 5ms" in hypotheses, abort conditions and later asserts compare with the same SLI measured here.'),
  })
  .strict()
  .describe('Load against the topology\'s entrypoints.');
export type LoadSpec = z.infer<typeof LoadSpec>;
