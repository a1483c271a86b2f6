import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { documentsOfKind, loadConfig } from './cli.js';
import { meshAdapter } from '../../meshes/index.js';
import { decideStage } from '../../rollout/decide.js';
import { planUpdates } from '../../rollout/render.js';
import { planStage } from '../../rollout/stage.js';
import { stageChangeBody } from '../../rollout/gitops/body.js';
import type { StageChange } from '../../rollout/gitops/git.js';

/** The example checkout's advance to `stage`, as the gate would hand it to commitStageChange. */
export async function exampleStageChange(work: string, stage = 1): Promise<StageChange> {
  const repo = await loadConfig(work, { cwd: work });
  const plan = documentsOfKind(repo, 'RolloutPlan')[0]!.data;
  const topology = documentsOfKind(repo, 'Topology')[0]!.data;
  const adapter = meshAdapter('istio');
  const files = new Map<string, string>();
  for (const file of ['rollout-plan.yaml', 'manifests/namespaces.yaml']) files.set(file, await readFile(join(work, file), 'utf8'));
  const from = planStage(plan, topology, stage - 1, adapter);
  const to = planStage(plan, topology, stage, adapter);
  const decision = decideStage([], { now: 0, lastStage: false });
  const { title, body } = stageChangeBody({ plan: plan.metadata.name, from, to, decision, runId: 'run-1', verdict: 'advance' });
  return { plan: plan.metadata.name, stage, verdict: 'advance', runId: 'run-1', updates: planUpdates({ files, planFile: 'rollout-plan.yaml', stage: to, adapter }), title, body };
}
