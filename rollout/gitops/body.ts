import { createHash } from 'node:crypto';
import { escapeMarkdown } from '../../reports/index.js';
import type { RolloutDecision } from '../decide.js';
import { stageDiff, type StagePlan } from '../stage.js';

const MARKER = 'meshdrill:state';

/** What a pull request body records for later runs to reconcile with. */
export interface StateMarker {
  plan: string;
  stage: number;
  verdict: string;
  runId: string;
  /** A digest of the decision's evidence: the same evidence on a later run means no update. */
  evidence?: string;
}

/** A stable digest of a decision: verdict, target stage and every gate's state and reason. */
export function evidenceDigest(decision: RolloutDecision, stage: number): string {
  const canonical = JSON.stringify({ verdict: decision.verdict, stage, reasons: decision.reasons, gates: decision.gates.map((g) => [g.name, g.state, g.reason]) });
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}


/** The PR title and body for a stage change: verdict first, evidence, and a hidden state marker for reconciliation. */
export function stageChangeBody(input: { plan: string; from: StagePlan; to: StagePlan; decision: RolloutDecision; runId: string; verdict: 'advance' | 'revert' }): { title: string; body: string } {
  const { from, to, decision } = input;
  const stageName = (s: StagePlan) => (s.current ? s.current.name : 'unmeshed');
  const title = `meshdrill: ${input.verdict} ${input.plan} to stage ${to.stage} (${stageName(to)})`;
  const lines = [
    `**${input.verdict === 'advance' ? 'Advance' : 'Revert'}** rollout plan \`${escapeMarkdown(input.plan)}\` from stage ${from.stage} (${escapeMarkdown(stageName(from))}) to stage ${to.stage} (${escapeMarkdown(stageName(to))}).`,
    '',
    ...decision.reasons.map((r) => `- ${escapeMarkdown(r)}`),
    '',
    '| gate | result | measurements |',
    '|---|---|---|',
    ...decision.gates.map((g) => `| ${escapeMarkdown(g.name)}${g.key ? ' (key)' : ''} | ${g.state} | ${escapeMarkdown(g.reason)} |`),
    '',
    '**What changes in the cluster**',
    '',
    ...stageDiff(from, to).map((d) => `- \`${escapeMarkdown(d.namespace)}\`: ${d.from.meshed === d.to.meshed ? '' : d.to.meshed ? 'meshed' : 'unmeshed'}${d.from.mtls !== d.to.mtls ? `${d.from.meshed === d.to.meshed ? '' : ', '}mTLS ${d.from.mtls ?? 'default'} → ${d.to.mtls ?? 'default'}` : ''}`),
    '',
    `Run \`${escapeMarkdown(input.runId)}\`.`,
    '',
    `<!-- ${MARKER} ${JSON.stringify({ plan: input.plan, stage: to.stage, verdict: input.verdict, runId: input.runId, evidence: evidenceDigest(decision, to.stage) } satisfies StateMarker)} -->`,
  ];
  return { title, body: lines.join('\n') };
}

/** The state a previous run left in a PR body, if any. */
export function readStateMarker(body: string): StateMarker | undefined {
  const match = new RegExp(`<!-- ${MARKER} (\\{.*?\\}) -->`).exec(body);
  if (!match) return undefined;
  try {
    return JSON.parse(match[1]!) as StateMarker;
  } catch {
    return undefined;
  }
}

export { escapeMarkdown };
