import { z } from 'zod';
import { API_VERSION, DnsName, Metadata, Duration } from '../model/index.js';
import { Gate } from '../slo/schema.js';

export const MeshSelection = z
  .object({
    name: z.enum(['istio', 'linkerd']).describe('Which mesh.'),
    mode: z.enum(['sidecar', 'ambient']).default('sidecar').describe('Istio data-plane mode; Linkerd is always sidecar.'),
    revision: DnsName.optional().describe('Istio revision label (istio.io/rev) to mesh namespaces with, instead of istio-injection.'),
    version: z.string().optional().describe('Mesh version to install on clusters meshdrill provisions.'),
  })
  .strict()
  .describe('The mesh the plan moves workloads onto.');
export type MeshSelection = z.infer<typeof MeshSelection>;

export const MtlsMode = z.enum(['PERMISSIVE', 'STRICT']).describe('Inbound mTLS for the stage\'s namespaces: PERMISSIVE accepts plaintext too.');

/** Preconditions checked against live telemetry before a stage is applied. */
export const Requirement = z.enum(['all-callers-meshed', 'baseline-healthy', 'control-plane-ready']);
export type Requirement = z.infer<typeof Requirement>;

export const Stage = z
  .object({
    name: DnsName.describe('Stage name, unique within the plan.'),
    namespaces: z.array(DnsName).default([]).describe('Namespaces meshed by this stage (in addition to earlier stages).'),
    mtls: MtlsMode.optional().describe('mTLS mode applied to every namespace meshed so far; unset keeps the previous stage\'s.'),
    bake: Duration.default('30m').describe('How long the stage runs under load before its gates are evaluated.'),
    gates: z.array(Gate).default([]),
    requires: z.array(Requirement).default([]).describe('Preconditions checked before the stage is applied.'),
  })
  .strict()
  .describe('One step of the rollout.');
export type Stage = z.infer<typeof Stage>;

export const RolloutPlanSpec = z
  .object({
    mesh: MeshSelection,
    topology: DnsName.optional().describe('Name of the Topology document; optional when the repo has exactly one.'),
    baseline: z
      .object({
        window: Duration.default('10m').describe('How long the baseline is measured, before the live stage is applied (mode: before).'),
        mode: z
          .enum(['before', 'control'])
          .default('before')
          .describe('before: relative objectives compare with the same scope measured before the stage is applied. control: with an unmeshed copy of the stage\'s namespaces (<ns>-control) measured over the same windows as the stage (Netflix ChAP\'s control and experiment).'),
      })
      .strict()
      .default({ window: '10m', mode: 'before' }),
    maxNamespacesPerStage: z.int().min(1).optional().describe('A stage meshing more namespaces than this is flagged.'),
    coolDown: Duration.default('1h').describe('After a revert, no advance is proposed for this long.'),
    allowLong: z.boolean().default(false).describe('Allow a bake or baseline longer than 24 hours of cluster time.'),
    git: z
      .object({
        author: z
          .object({ name: z.string().min(1).max(100), email: z.string().regex(/^[^\s@<>]+@[^\s@<>]+$/, { error: 'expected an email address' }) })
          .strict()
          .optional()
          .describe('Who commits stage changes (author and committer); default meshdrill[bot] <meshdrill[bot]@users.noreply.github.com>. A repo that requires a known author, or signed-off work, names it here.'),
        branchPrefix: z.string().regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, { error: 'expected a branch prefix like "meshdrill" or "bots/mesh"' }).default('meshdrill').describe('Stage branches are <prefix>/<plan>/stage-<n>-<advance|revert>.'),
        labels: z.array(z.string().min(1).max(50)).max(20).default([]).describe('Labels the pull requests get besides meshdrill\'s own (meshdrill, stage/<n>, the verdict, slo/<outcome>).'),
        conventionalCommits: z.boolean().default(false).describe('Write commit and pull-request subjects as Conventional Commits: "chore(mesh): advance <plan> to stage <n> (…)".'),
        verifiedCommits: z
          .boolean()
          .default(false)
          .describe('Have GitHub make the stage commit through its API (blobs, tree, commit, ref), so it is signed by GitHub and shows as Verified: for branches that require signed commits. Needs a GitHub token or App; the author is then the token\'s identity, and spec.git.author does not apply.'),
      })
      .strict()
      .default({ branchPrefix: 'meshdrill', labels: [], conventionalCommits: false, verifiedCommits: false })
      .describe('How stage changes are committed and proposed, for repos whose branch protection has rules about it.'),
    stages: z.array(Stage).min(1, { error: 'expected at least one stage' }),
  })
  .strict();

export const RolloutStatus = z
  .object({
    stage: z.int().min(0).default(0).describe('Stages applied so far: 0 is unmeshed, N means stages[0..N-1] are live. Changed by pull request.'),
  })
  .strict();

export const RolloutPlan = z
  .object({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal('RolloutPlan'),
    metadata: Metadata,
    spec: RolloutPlanSpec,
    status: RolloutStatus.default({ stage: 0 }),
  })
  .strict()
  .describe('How namespaces move onto the mesh, stage by stage, and which gates each stage must pass.');
export type RolloutPlan = z.infer<typeof RolloutPlan>;
