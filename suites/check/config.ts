import { z } from 'zod';
import { documentSchema } from '../../model/index.js';
import { RULES, type Severity } from './rules.js';

export const RuleSetting = z.enum(['error', 'warning', 'info', 'off']).describe('The severity this repo gives the rule; "off" silences it.');
export type RuleSetting = z.infer<typeof RuleSetting>;

// One optional key per rule, by id and by name, so an unknown key is an error with a did-you-mean.
const ruleKeys = Object.fromEntries(RULES.flatMap((r) => [[r.id, RuleSetting.optional().describe(`${r.name}: ${r.doc}`)], [r.name, RuleSetting.optional().describe(`${r.id}: ${r.doc}`)]]));

export const CheckConfig = documentSchema(
  'CheckConfig',
  z
    .object({
      rules: z.object(ruleKeys).strict().default({}).describe('Severity per rule, by id (MD101) or name (strict-with-plaintext-callers); rules not named keep their default.'),
      failOn: z.enum(['error', 'warning']).default('error').describe('The lowest severity of a finding that fails the check (exit 1).'),
      retryBudget: z.number().int().min(1).max(10_000).default(10).describe('MD102: how many requests one request may become along a call path before retries count as amplification.'),
      sidecarScopeThreshold: z.number().int().min(1).max(10_000).default(8).describe('MD105: a meshed namespace with more services than this needs a Sidecar resource.'),
      kustomize: z.array(z.string().min(1)).max(100).optional().describe('Kustomization directories to render and judge (relative to the repo); default: every kustomization no other one includes. Name one overlay when several render the same objects for different clusters.'),
      include: z.array(z.string().min(1)).max(100).optional().describe('Globs (relative to the repo, ** for any depth) of the YAML files to read; default: all.'),
      exclude: z.array(z.string().min(1)).max(100).optional().describe('Globs of YAML files not to read, e.g. ["charts/**", "ci/**"].'),
    })
    .strict(),
  'How `meshdrill check` judges this repo: rule severities and thresholds. With --base, the base\'s CheckConfig applies, so a change cannot switch off the rule it breaks.',
);
export type CheckConfig = z.infer<typeof CheckConfig>;

export interface RuleSettings {
  severities: Record<string, RuleSetting>;
  failOn: 'error' | 'warning';
  retryBudget: number;
  sidecarScopeThreshold: number;
}

export const DEFAULT_RULE_SETTINGS: RuleSettings = { severities: {}, failOn: 'error', retryBudget: 10, sidecarScopeThreshold: 8 };

export function ruleSettings(config: CheckConfig | undefined): RuleSettings {
  if (!config) return DEFAULT_RULE_SETTINGS;
  const severities: Record<string, RuleSetting> = {};
  // A setting by id wins over one by name when a repo gives both.
  for (const r of RULES) {
    const setting = config.spec.rules[r.id] ?? config.spec.rules[r.name];
    if (setting) severities[r.id] = setting;
  }
  return { severities, failOn: config.spec.failOn, retryBudget: config.spec.retryBudget, sidecarScopeThreshold: config.spec.sidecarScopeThreshold };
}

/** Whether a finding of this severity fails the check under these settings. */
export function blocks(severity: Severity, settings: Pick<RuleSettings, 'failOn'>): boolean {
  return severity === 'error' || (settings.failOn === 'warning' && severity === 'warning');
}
