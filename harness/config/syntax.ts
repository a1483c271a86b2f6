import { createRequire } from 'node:module';
import type * as Croner from 'croner';
import type * as LezerPromql from '@prometheus-io/lezer-promql';
import { k3sImage, nodeImage } from '../../clusters/schema.js';

// The two parsers load when a document has something for them (a schedule, a PromQL query), not
// with every validate: synchronously, through their CommonJS builds, as rules are synchronous.
const require = createRequire(import.meta.url);

/** Why a cron expression cannot be scheduled, as croner (a maintained cron parser) reads it. */
export function cronProblem(expression: string): string | undefined {
  try {
    const { Cron } = require('croner') as typeof Croner;
    new Cron(expression, { paused: true });
    return undefined;
  } catch (error) {
    return `not a schedule cron can run: ${(error as Error).message.replace(/^CronPattern: /, '').replace(/\.$/, '')}`;
  }
}

/**
 * Why a PromQL expression does not parse, with the column of the first error, by Prometheus's own
 * grammar (@prometheus-io/lezer-promql, the parser of the Prometheus web UI).
 */
export function promqlProblem(query: string): string | undefined {
  const { parser } = require('@prometheus-io/lezer-promql') as typeof LezerPromql;
  const tree = parser.parse(query);
  let at: number | undefined;
  tree.iterate({
    enter(node) {
      if (at === undefined && node.type.isError) at = node.from;
    },
  });
  if (at === undefined) return undefined;
  const near = query.slice(Math.max(0, at - 10), at + 10);
  return `PromQL syntax error at column ${at + 1}${near ? ` (near "${near}")` : ''}; found "${query}"`;
}

/** Why a kind or k3s cluster cannot be made at this Kubernetes version (the image tables the providers use). */
export function providerVersionProblem(provider: 'kind' | 'k3s', version: string | undefined): string | undefined {
  try {
    if (provider === 'kind') nodeImage(version);
    else k3sImage(version);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
