import { createPod } from './replicaset.js';
import { isoTime, ownedBy, writeStatus, type ControllerContext, type Obj } from './context.js';

/**
 * The Job controller for single-completion Jobs (backoffLimit applies): a pod labelled job-name,
 * and the Complete or Failed condition once that pod has Succeeded or Failed.
 */
export function reconcileJob(ctx: ControllerContext, namespace: string, name: string): void {
  const job = ctx.api.find(ctx.type('Job'), namespace, name);
  if (!job) return;
  const spec = job.spec as Obj;
  const pods = ownedBy(ctx.api.list(ctx.type('Pod'), namespace), job);
  const phase = (p: (typeof pods)[number]) => (p.status as Obj | undefined)?.['phase'];
  const succeeded = pods.filter((p) => phase(p) === 'Succeeded').length;
  const failed = pods.filter((p) => phase(p) === 'Failed').length;
  const active = pods.filter((p) => phase(p) !== 'Succeeded' && phase(p) !== 'Failed').length;
  const done = succeeded >= Number(spec['completions'] ?? 1) || failed > Number(spec['backoffLimit'] ?? 6);
  if (!done && active === 0) createPod(ctx, job, { labels: { 'job-name': name, 'batch.kubernetes.io/job-name': name, 'batch.kubernetes.io/controller-uid': job.metadata.uid ?? '' } });
  const previous = (job.status as Obj | undefined) ?? {};
  const now = isoTime(ctx.clock);
  const conditions = !done ? [] : [{ type: succeeded > 0 ? 'Complete' : 'Failed', status: 'True', lastProbeTime: now, lastTransitionTime: now, ...(succeeded > 0 ? {} : { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }) }];
  writeStatus(ctx, 'Job', job, {
    ...(previous['startTime'] ? { startTime: previous['startTime'] } : { startTime: now }),
    active: done ? 0 : Math.max(active, 1),
    succeeded,
    failed,
    ...(done ? { conditions: (previous['conditions'] as unknown[] | undefined)?.length ? previous['conditions'] : conditions, ...(succeeded > 0 ? { completionTime: previous['completionTime'] ?? now } : {}) } : {}),
  });
}
