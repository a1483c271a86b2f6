import type { z } from 'zod';
import { Fault } from '../../chaos/schema.js';
import { ClusterSpec } from '../../clusters/schema.js';
import { CheckConfig, GameDay, Suite } from '../../suites/schema.js';
import { Topology } from '../../model/index.js';
import { RolloutPlan } from '../../rollout/schema.js';
import { Slo } from '../../slo/schema.js';

/** Every document kind meshdrill reads, by its `kind` field. */
export const KINDS = {
  Topology,
  RolloutPlan,
  SLO: Slo,
  Fault,
  GameDay,
  Suite,
  Cluster: ClusterSpec,
  CheckConfig,
} satisfies Record<string, z.ZodType>;

export type KindName = keyof typeof KINDS;
export const KIND_NAMES = Object.keys(KINDS) as KindName[];

export function isKindName(kind: string): kind is KindName {
  return Object.hasOwn(KINDS, kind);
}

export interface DocumentOfKind {
  Topology: z.infer<typeof Topology>;
  RolloutPlan: z.infer<typeof RolloutPlan>;
  SLO: z.infer<typeof Slo>;
  Fault: z.infer<typeof Fault>;
  GameDay: z.infer<typeof GameDay>;
  Suite: z.infer<typeof Suite>;
  Cluster: z.infer<typeof ClusterSpec>;
  CheckConfig: z.infer<typeof CheckConfig>;
}
