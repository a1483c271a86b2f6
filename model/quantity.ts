import { z } from 'zod';

// Durations are written the way Kubernetes and Prometheus users write them:
// a sequence of number+unit pairs, largest unit first ("1h30m", "500ms").
const DURATION_PATTERN = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export const DURATION_HINT = 'a duration like "30m", "1h30m" or "500ms"';

/** Milliseconds in a duration string, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION_PATTERN.test(text)) return undefined;
  let total = 0;
  for (const match of text.matchAll(DURATION_PART)) {
    total += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? 0);
  }
  return total;
}

/** The shortest exact spelling of a millisecond count ("90m" → "1h30m"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1_000) return `${trimNumber(ms)}ms`;
  let rest = ms;
  let out = '';
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000]] as const) {
    const whole = Math.floor(rest / size);
    if (whole > 0) {
      out += `${whole}${unit}`;
      rest -= whole * size;
    }
  }
  if (rest > 0) out += rest % 1_000 === 0 ? `${rest / 1_000}s` : `${trimNumber(rest / 1_000)}s`;
  return out;
}

function trimNumber(n: number): string {
  return String(Number(n.toFixed(3)));
}

export const Duration = z
  .string({ error: `expected ${DURATION_HINT}` })
  .regex(DURATION_PATTERN, { error: `expected ${DURATION_HINT}` })
  .describe('A duration: number+unit pairs with units ms, s, m, h, d, e.g. "30m", "1h30m", "500ms".');
export type Duration = z.infer<typeof Duration>;

const PERCENT_PATTERN = /^\d+(?:\.\d+)?%$/;

/** A percentage string ("99.9%") as a number of percent (99.9), or undefined. */
export function parsePercent(text: string): number | undefined {
  if (!PERCENT_PATTERN.test(text)) return undefined;
  return Number(text.slice(0, -1));
}

export const Percent = z
  .string({ error: 'expected a percentage like "25%"' })
  .regex(PERCENT_PATTERN, { error: 'expected a percentage like "25%"' })
  .refine((text) => (parsePercent(text) ?? 0) <= 100, { error: 'expected a percentage from 0% to 100%' })
  .describe('A percentage from 0% to 100%, written with the percent sign, e.g. "25%" or "99.9%".');
export type Percent = z.infer<typeof Percent>;

const QUANTITY_SUFFIX: Record<string, number> = { m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };

/** A Kubernetes resource quantity ("500m" cores, "128Mi" bytes, "2") as a number; undefined if it is not one. */
export function parseKubeQuantity(text: string | undefined): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?\s*$/.exec(text ?? '');
  if (!match) return undefined;
  return Number(match[1]) * QUANTITY_SUFFIX[match[2] ?? '']!;
}
