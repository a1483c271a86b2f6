import type { KubeObject } from '../../clusters/index.js';
import type { MeshAdapter } from '../../meshes/index.js';
import type { Topology } from '../../model/index.js';
import type { RolloutPlan } from '../../rollout/index.js';
import { gameDayRules, gateRules, rbacObjects } from './rbac.js';

export interface InClusterOptions {
  /** Where meshdrill's own objects go. */
  namespace: string;
  /** The image built from the repository's Dockerfile, in the team's registry, by digest or tag. */
  image: string;
  /** The mesh config repo to clone (https); credentials come from the Secret, never the URL. */
  gitUrl: string;
  gitBranch: string;
  /** The config repo's directory inside the git repository. */
  repoDir: string;
  prometheusUrl: string;
  gateSchedule: string;
  /**
   * A game day of fault steps against this cluster, on its own schedule and service account. Faults
   * on the cluster the CronJob was installed in are allowed (--yes-really in-cluster): installing it is the consent.
   */
  gameDay?: { name: string; schedule: string; steps: Array<Record<string, unknown>> };
}

export interface InClusterInput {
  plan: RolloutPlan;
  topology: Topology;
  adapter: MeshAdapter;
}

const LABELS = { 'app.kubernetes.io/name': 'meshdrill', 'app.kubernetes.io/managed-by': 'meshdrill' };
/** The Secret a team creates by hand (or from their secret store): GITHUB_TOKEN, or the GitHub App's three values. */
export const GITHUB_SECRET = 'meshdrill-github';
const GITHUB_KEYS = ['GITHUB_TOKEN', 'GITHUB_APP_ID', 'GITHUB_APP_PRIVATE_KEY', 'GITHUB_APP_INSTALLATION_ID'];
const WORK = '/work';

/**
 * git reads the token from the environment through a credential helper at the moment it needs it:
 * the token is in no argument, no URL and no file (GIT_CONFIG_COUNT, git ≥ 2.31).
 */
const GIT_ENV = [
  { name: 'HOME', value: `${WORK}/home` },
  { name: 'GIT_CONFIG_COUNT', value: '1' },
  { name: 'GIT_CONFIG_KEY_0', value: 'credential.helper' },
  { name: 'GIT_CONFIG_VALUE_0', value: '!f() { test -n "$GITHUB_TOKEN" || exit 0; echo username=x-access-token; echo "password=$GITHUB_TOKEN"; }; f' },
];

function secretEnv(): Array<Record<string, unknown>> {
  return GITHUB_KEYS.map((key) => ({ name: key, valueFrom: { secretKeyRef: { name: GITHUB_SECRET, key, optional: true } } }));
}

/** A Job's pod: clone the repo with its whole history (the live gate dates the stage by it), then run meshdrill. */
function cronJob(name: string, component: string, serviceAccount: string, schedule: string, args: string[], options: InClusterOptions, deadlineSeconds: number): KubeObject {
  const labels = { ...LABELS, 'app.kubernetes.io/component': component };
  const hardened = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } };
  const mounts = [{ name: 'work', mountPath: WORK }];
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name, namespace: options.namespace, labels },
    spec: {
      schedule,
      timeZone: 'Etc/UTC',
      // One run at a time: a gate or game day still running when the next is due is not doubled.
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: 600,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        spec: {
          backoffLimit: 0,
          activeDeadlineSeconds: deadlineSeconds,
          template: {
            metadata: {
              labels,
              // meshdrill talks to the API server and Prometheus; a proxy of the mesh it judges would be judged too.
              annotations: { 'sidecar.istio.io/inject': 'false', 'linkerd.io/inject': 'disabled' },
            },
            spec: {
              serviceAccountName: serviceAccount,
              restartPolicy: 'Never',
              securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
              initContainers: [
                {
                  name: 'clone',
                  image: options.image,
                  command: ['git', 'clone', '--quiet', '--branch', '$(MESHDRILL_GIT_BRANCH)', '$(MESHDRILL_GIT_URL)', `${WORK}/repo`],
                  envFrom: [{ configMapRef: { name: 'meshdrill' } }],
                  env: [...GIT_ENV, ...secretEnv()],
                  securityContext: hardened,
                  volumeMounts: mounts,
                  resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
                },
              ],
              containers: [
                {
                  name: 'meshdrill',
                  image: options.image,
                  args,
                  // Run folders, journals and the clone live on the writable volume.
                  workingDir: WORK,
                  envFrom: [{ configMapRef: { name: 'meshdrill' } }],
                  env: [...GIT_ENV, ...secretEnv()],
                  securityContext: hardened,
                  volumeMounts: mounts,
                  resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } },
                },
              ],
              volumes: [{ name: 'work', emptyDir: {} }],
            },
          },
        },
      },
    },
  };
}

/**
 * meshdrill as CronJobs in the cluster it judges, as Flagger, Kargo and Chaos Mesh run: a rollout
 * gate every `gateSchedule` (read only: the GitOps engine applies the stages it proposes) and,
 * optionally, a game day of faults on its own schedule — each with its own service account and
 * only the RBAC its runs use (rbac.ts).
 */
export function inClusterManifests(input: InClusterInput, options: InClusterOptions): KubeObject[] {
  const { namespace } = options;
  const repo = `${WORK}/repo/${options.repoDir.replace(/^\.?\/?/, '')}`.replace(/\/$/, '');
  const out: KubeObject[] = [
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'meshdrill', namespace, labels: LABELS },
      data: { MESHDRILL_GIT_URL: options.gitUrl, MESHDRILL_GIT_BRANCH: options.gitBranch, MESHDRILL_PROMETHEUS_URL: options.prometheusUrl },
    },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'meshdrill-gate', namespace, labels: LABELS } },
    ...rbacObjects('meshdrill-gate', { name: 'meshdrill-gate', namespace }, gateRules(input.plan, input.topology, input.adapter), LABELS),
    cronJob('meshdrill-rollout-gate', 'rollout-gate', 'meshdrill-gate', options.gateSchedule, ['rollout', 'gate', repo, '--plan', input.plan.metadata.name, '--context', 'in-cluster', '--prometheus', '$(MESHDRILL_PROMETHEUS_URL)', '--out', `${WORK}/runs`], options, 3_600),
  ];
  if (options.gameDay) {
    const name = `meshdrill-gameday-${options.gameDay.name}`.slice(0, 52);
    out.push(
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'meshdrill-gameday', namespace, labels: LABELS } },
      ...rbacObjects('meshdrill-gameday', { name: 'meshdrill-gameday', namespace }, gameDayRules(options.gameDay.steps, input.adapter), LABELS),
      cronJob(name, 'gameday', 'meshdrill-gameday', options.gameDay.schedule, ['gameday', 'run', repo, '--name', options.gameDay.name, '--context', 'in-cluster', '--yes-really', 'in-cluster', '--prometheus', '$(MESHDRILL_PROMETHEUS_URL)', '--out', `${WORK}/runs`], options, 6 * 3_600),
    );
  }
  return out;
}
