import type { Octokit } from '@octokit/rest';
import { GitError, Redactor, type Logger } from '../../core/index.js';
import type { IssueRequest, PullRequestRecord } from '../../reports/index.js';

export type { IssueRequest };
import { readStateMarker, type StateMarker } from './body.js';

// octokit's plugins add behaviour, not methods the forge calls: the client is an Octokit.
type Client = Octokit;

/** How meshdrill authenticates to GitHub: a token, or a GitHub App installation. */
export type GitHubAuth = { token: string } | { appId: string; privateKey: string; installationId: string };

export interface GitHubForgeOptions {
  owner: string;
  repo: string;
  auth: GitHubAuth;
  /** GitHub Enterprise Server: e.g. https://github.example.com/api/v3. Default api.github.com. */
  baseUrl?: string;
  logger: Pick<Logger, 'info' | 'warn'>;
  /** Rate-limit retries before giving up (each waits what GitHub's retry-after says). Default 3. */
  rateLimitRetries?: number;
  /** GitHub asks for a second between writes and more between notifying writes; tests pass 0. */
  writeIntervalMs?: number;
  /** Scales GitHub's retry-after seconds to milliseconds; tests pass 1 to wait 1 ms per second. */
  retryAfterUnitMs?: number;
  /** Takes secrets out of everything posted (bodies, titles, comments, check runs) and of GitHub's error text. */
  secrets?: Redactor;
}

export interface PullRequestRequest {
  plan: string;
  head: string;
  base: string;
  title: string;
  body: string;
  labels: string[];
  /** The head commit the branch holds (for the commit status). */
  commit?: string;
  /** A person committed to the branch: say so once, in a comment. */
  humanCommits: boolean;
  dryRun: boolean;
}

const HUMAN_COMMITS_MARKER = '<!-- meshdrill:human-commits -->';

/** Reads owner/name from a GitHub remote URL (https or ssh), if it is one. */
export function githubRepoFromRemote(url: string, host = 'github.com'): { owner: string; repo: string } | undefined {
  const escaped = host.replace(/\./g, '\\.');
  const match = new RegExp(`^(?:https://(?:[^@/]+@)?${escaped}/|ssh://git@${escaped}/|git@${escaped}:)([^/]+)/([^/]+?)(?:\\.git)?/?$`).exec(url.trim());
  return match ? { owner: match[1]!, repo: match[2]! } : undefined;
}

/**
 * The GitHub side of a stage change: at most one open meshdrill pull request per plan, adopted and
 * reconciled through the state marker in its body — no database. Retries rate limits (403/429 with
 * retry-after or an exhausted quota) and server errors; a 401 or a token without push rights is a
 * clear error that never contains the token.
 */
export class GitHubForge {
  private clientPromise: Promise<Client> | undefined;
  private readonly slug: { owner: string; repo: string };

  private readonly secrets: Redactor;

  constructor(private readonly options: GitHubForgeOptions) {
    this.slug = { owner: options.owner, repo: options.repo };
    this.secrets = options.secrets ?? new Redactor();
    if ('token' in options.auth) this.secrets.add(options.auth.token);
    else this.secrets.add(options.auth.privateKey);
  }

  /** octokit and its plugins are loaded on first use, so commands that post nothing do not load them. */
  private client(): Promise<Client> {
    this.clientPromise ??= createClient(this.options, this.secrets);
    return this.clientPromise;
  }

  get repository(): string {
    return `${this.slug.owner}/${this.slug.repo}`;
  }

  /** Before anything is pushed: the credentials work and may push to the repo. */
  async preflight(): Promise<{ defaultBranch: string }> {
    const { data } = await this.call('reading the repository', (client) => client.rest.repos.get(this.slug));
    if (data.permissions && !data.permissions.push) throw new GitError(`the GitHub credentials can read ${this.repository} but not push to it; meshdrill needs contents and pull-requests write access`);
    return { defaultBranch: data.default_branch };
  }

  /**
   * Ensures the one open pull request for this plan is the one described: adopts an open PR for
   * the same head, leaves it untouched when its state marker carries the same evidence, updates it
   * otherwise, creates it when there is none; then closes older meshdrill PRs of the plan with a
   * comment linking the new one.
   */
  async ensurePullRequest(request: PullRequestRequest): Promise<PullRequestRecord> {
    const marker = readStateMarker(request.body);
    const base = { forge: 'github' as const, branch: request.head, base: request.base, ...(request.commit ? { commit: request.commit } : {}), superseded: [] as number[] };
    const open = await this.call('listing open pull requests', (client) => client.paginate(client.rest.pulls.list, { ...this.slug, state: 'open', per_page: 100 }));
    const existing = open.find((pr) => pr.head.ref === request.head && pr.head.repo?.full_name === this.repository);
    const older = open.filter((pr) => pr.number !== existing?.number && pr.labels.some((l) => l.name === 'meshdrill') && readStateMarker(pr.body ?? '')?.plan === request.plan);
    if (request.dryRun) {
      this.options.logger.info({ repository: this.repository, head: request.head }, `DRY-RUN: would ${existing ? `update pull request #${existing.number}` : 'open a pull request'}${older.length ? ` and close ${older.map((p) => `#${p.number}`).join(', ')}` : ''}`);
      return { ...base, action: 'dry-run', ...(existing ? { number: existing.number, url: existing.html_url } : {}) };
    }
    let number: number;
    let url: string;
    let action: PullRequestRecord['action'];
    if (existing) {
      number = existing.number;
      url = existing.html_url;
      const previous = readStateMarker(existing.body ?? '');
      if (previous && marker && sameEvidence(previous, marker) && existing.title === request.title) {
        action = 'unchanged';
      } else {
        await this.call(`updating pull request #${number}`, (client) => client.rest.pulls.update({ ...this.slug, pull_number: number, title: request.title, body: request.body }));
        action = 'updated';
      }
      const missing = request.labels.filter((l) => !existing.labels.some((have) => have.name === l));
      if (missing.length) await this.call(`labelling pull request #${number}`, (client) => client.rest.issues.addLabels({ ...this.slug, issue_number: number, labels: missing }));
    } else {
      // Creating is not idempotent: after a 5xx the pull request may exist all the same, so it is
      // looked up before another try, and created at most once more.
      const created = await this.createOnce(
        'opening the pull request',
        (client) => client.rest.pulls.create({ ...this.slug, head: request.head, base: request.base, title: request.title, body: request.body, maintainer_can_modify: true, request: { retries: 0 } }).then((r) => ({ number: r.data.number, html_url: r.data.html_url })),
        async (client) => (await client.paginate(client.rest.pulls.list, { ...this.slug, state: 'open', head: `${this.slug.owner}:${request.head}`, per_page: 100 })).find((pr) => pr.head.ref === request.head),
      );
      number = created.number;
      url = created.html_url;
      action = 'created';
      await this.call(`labelling pull request #${number}`, (client) => client.rest.issues.addLabels({ ...this.slug, issue_number: number, labels: request.labels }));
    }
    if (request.humanCommits) await this.noteHumanCommits(number);
    const superseded: number[] = [];
    for (const pr of older) {
      await this.call(`commenting on pull request #${pr.number}`, (client) => client.rest.issues.createComment({ ...this.slug, issue_number: pr.number, body: `Superseded by #${number}: a newer meshdrill decision for plan \`${request.plan}\`. Closing this one.` }));
      await this.call(`closing pull request #${pr.number}`, (client) => client.rest.pulls.update({ ...this.slug, pull_number: pr.number, state: 'closed' }));
      superseded.push(pr.number);
    }
    this.options.logger.info({ number, url, action }, `pull request #${number} ${action}${superseded.length ? `; closed ${superseded.map((n) => `#${n}`).join(', ')}` : ''}`);
    return { ...base, action, number, url, superseded };
  }

  /** A commit status on a commit (e.g. the config repo's PR head) under the context meshdrill/<name>. */
  async setCommitStatus(sha: string, status: { state: 'success' | 'failure' | 'pending' | 'error'; description: string; context: string; targetUrl?: string }): Promise<void> {
    await this.call(`setting the ${status.context} status`, (client) =>
      client.rest.repos.createCommitStatus({ ...this.slug, sha, state: status.state, context: status.context, description: status.description.slice(0, 140), ...(status.targetUrl ? { target_url: status.targetUrl } : {}) }),
    );
  }

  /**
   * One check run on a commit with annotations on the YAML lines (GitHub takes at most 50 per
   * call: the rest follow in updates) and a summary cut to GitHub's 65,535 characters.
   */
  async createCheckRun(sha: string, run: { name: string; conclusion: 'success' | 'failure' | 'neutral'; title: string; summary: string; annotations: Array<{ path: string; line: number; column?: number; level: 'failure' | 'warning' | 'notice'; message: string; title?: string }> }): Promise<number> {
    const batches: Array<typeof run.annotations> = [];
    for (let i = 0; i < run.annotations.length; i += 50) batches.push(run.annotations.slice(i, i + 50));
    const summary = run.summary.length > 65_535 ? `${run.summary.slice(0, 65_400)}\n\n_(cut to GitHub's limit)_` : run.summary;
    const toApi = (a: (typeof run.annotations)[number]) => ({ path: a.path, start_line: a.line, end_line: a.line, ...(a.column !== undefined ? { start_column: a.column, end_column: a.column } : {}), annotation_level: a.level, message: a.message, ...(a.title ? { title: a.title } : {}) });
    const { data } = await this.call(`creating the ${run.name} check run`, (client) =>
      client.rest.checks.create({ ...this.slug, name: run.name, head_sha: sha, status: 'completed', conclusion: run.conclusion, output: { title: run.title, summary, annotations: (batches[0] ?? []).map(toApi) } }),
      CHECKS_WRITE,
    );
    for (const batch of batches.slice(1)) {
      await this.call(`annotating the ${run.name} check run`, (client) => client.rest.checks.update({ ...this.slug, check_run_id: data.id, output: { title: run.title, summary, annotations: batch.map(toApi) } }), CHECKS_WRITE);
    }
    return data.id;
  }

  /** One comment per pull request and marker: updated on every push, never duplicated. */
  async upsertComment(number: number, marker: string, body: string): Promise<'created' | 'updated' | 'unchanged'> {
    const tagged = `${body}\n<!-- ${marker} -->`;
    const comments = await this.call(`reading comments of #${number}`, (client) => client.paginate(client.rest.issues.listComments, { ...this.slug, issue_number: number, per_page: 100 }));
    const mine = comments.find((c) => c.body?.includes(`<!-- ${marker} -->`));
    if (mine?.body === tagged) return 'unchanged';
    if (mine) {
      await this.call(`updating comment ${mine.id}`, (client) => client.rest.issues.updateComment({ ...this.slug, comment_id: mine.id, body: tagged }), PULL_REQUESTS_WRITE);
      return 'updated';
    }
    await this.call(`commenting on pull request #${number}`, (client) => client.rest.issues.createComment({ ...this.slug, issue_number: number, body: tagged }), PULL_REQUESTS_WRITE);
    return 'created';
  }

  /**
   * One issue per marker for something that fails again and again (a scheduled game day):
   * failing opens it, or updates its description and comments once per run; passing comments and
   * closes it; passing with none open does nothing. A re-run of the same run writes nothing new.
   */
  async syncIssue(request: IssueRequest): Promise<{ action: 'opened' | 'updated' | 'closed' | 'unchanged' | 'none'; number?: number; url?: string }> {
    const tag = `<!-- ${request.marker} -->`;
    const runTag = `<!-- meshdrill:run:${request.runId} -->`;
    const issues = await this.call(`listing issues labelled ${request.labels[0]}`, (client) =>
      client.paginate(client.rest.issues.listForRepo, { ...this.slug, state: 'open', labels: request.labels[0]!, per_page: 100 }),
    );
    // The issues API lists pull requests too; only a real issue carrying the marker is ours.
    const open = issues.find((i) => !i.pull_request && i.body?.includes(tag));
    // The body carries the run that last wrote it, so a re-run of the opening run is recognised too.
    const body = `${request.body}\n${tag}\n${runTag}`;
    if (!open) {
      if (!request.failing) return { action: 'none' };
      const { data } = await this.call('opening an issue', (client) => client.rest.issues.create({ ...this.slug, title: request.title, body, labels: request.labels }));
      this.options.logger.info({ number: data.number }, `issue #${data.number} opened`);
      return { action: 'opened', number: data.number, url: data.html_url };
    }
    const comments = await this.call(`reading comments of #${open.number}`, (client) => client.paginate(client.rest.issues.listComments, { ...this.slug, issue_number: open.number, per_page: 100 }));
    if (open.body?.includes(runTag) || comments.some((c) => c.body?.includes(runTag))) return { action: 'unchanged', number: open.number, url: open.html_url };
    await this.call(`commenting on issue #${open.number}`, (client) => client.rest.issues.createComment({ ...this.slug, issue_number: open.number, body: `${request.comment}\n${runTag}` }));
    if (request.failing) {
      await this.call(`updating issue #${open.number}`, (client) => client.rest.issues.update({ ...this.slug, issue_number: open.number, title: request.title, body }));
      return { action: 'updated', number: open.number, url: open.html_url };
    }
    await this.call(`closing issue #${open.number}`, (client) => client.rest.issues.update({ ...this.slug, issue_number: open.number, state: 'closed', state_reason: 'completed' }));
    this.options.logger.info({ number: open.number }, `issue #${open.number} closed`);
    return { action: 'closed', number: open.number, url: open.html_url };
  }

  /** Polls until the PR is merged or closed, or the time runs out; closed unmerged means rejected. */
  async waitForMerge(number: number, options: { timeoutMs: number; pollMs: number; now: () => number; sleep: (ms: number) => Promise<void> }): Promise<'merged' | 'rejected' | 'timeout'> {
    const deadline = options.now() + options.timeoutMs;
    for (;;) {
      const { data } = await this.call(`reading pull request #${number}`, (client) => client.rest.pulls.get({ ...this.slug, pull_number: number }));
      if (data.merged) return 'merged';
      if (data.state === 'closed') return 'rejected';
      if (options.now() + options.pollMs > deadline) return 'timeout';
      await options.sleep(options.pollMs);
    }
  }

  /**
   * A commit GitHub makes and signs (Verified), as Renovate's platformCommit does: the changed
   * files as a tree on the parent's tree, a commit with no author (GitHub takes the token's
   * identity and signs it), then the branch pointed at it — created, or moved only if it still
   * holds `expected` (a lease: someone's push in between is never overwritten).
   */
  async createVerifiedCommit(input: { branch: string; parent: string; message: string; files: Array<{ path: string; content: string | undefined }>; expected: string | undefined }): Promise<{ commit: string; tree: string }> {
    const { data: parent } = await this.call(`reading commit ${input.parent.slice(0, 12)}`, (client) => client.rest.git.getCommit({ ...this.slug, commit_sha: input.parent }));
    const tree = input.files.map((f) => (f.content === undefined ? { path: f.path, mode: '100644' as const, type: 'blob' as const, sha: null } : { path: f.path, mode: '100644' as const, type: 'blob' as const, content: f.content }));
    const { data: made } = await this.call('creating the tree of the stage commit', (client) => client.rest.git.createTree({ ...this.slug, base_tree: parent.tree.sha, tree }));
    const { data: commit } = await this.call('creating the stage commit', (client) => client.rest.git.createCommit({ ...this.slug, message: input.message, tree: made.sha, parents: [input.parent] }));
    const ref = `heads/${input.branch}`;
    const current = await this.call(`reading ${input.branch}`, (client) => client.rest.git.getRef({ ...this.slug, ref }).then((r) => r.data.object.sha, (error: { status?: number }) => (error.status === 404 ? undefined : Promise.reject(error))));
    if (current !== input.expected) throw new GitError(`${input.branch} on GitHub is at ${current?.slice(0, 12) ?? 'nothing'}, not ${input.expected?.slice(0, 12) ?? 'nothing'} as fetched: someone pushed meanwhile; meshdrill leaves it and tries again next run`);
    if (current === undefined) await this.call(`creating ${input.branch}`, (client) => client.rest.git.createRef({ ...this.slug, ref: `refs/${ref}`, sha: commit.sha }));
    else await this.call(`moving ${input.branch}`, (client) => client.rest.git.updateRef({ ...this.slug, ref, sha: commit.sha, force: true }));
    return { commit: commit.sha, tree: made.sha };
  }

  /** The commit a merged pull request became on its base branch (a merge, squash or rebase commit). */
  async mergeCommit(number: number): Promise<string | undefined> {
    const { data } = await this.call(`reading pull request #${number}`, (client) => client.rest.pulls.get({ ...this.slug, pull_number: number }));
    return data.merged ? (data.merge_commit_sha ?? undefined) : undefined;
  }

  private async noteHumanCommits(number: number): Promise<void> {
    const comments = await this.call(`reading comments of #${number}`, (client) => client.paginate(client.rest.issues.listComments, { ...this.slug, issue_number: number, per_page: 100 }));
    if (comments.some((c) => c.body?.includes(HUMAN_COMMITS_MARKER))) return;
    await this.call(`commenting on pull request #${number}`, (client) =>
      client.rest.issues.createComment({ ...this.slug, issue_number: number, body: `${HUMAN_COMMITS_MARKER}\nSomeone other than meshdrill has committed to this branch, so meshdrill no longer force-pushes it. New evidence is recorded in the description only; merge or close this pull request to let meshdrill take over again.` }),
    );
  }

  /** Runs one API call and turns GitHub's failures into clear errors, never carrying credentials. */
  /**
   * A write GitHub does not make idempotent (create a pull request, an issue, a comment): tried
   * without octokit's automatic retries; after a server error, `find` looks for what the first try
   * may have made, and only if there is none is it tried once more.
   */
  private async createOnce<T>(what: string, create: (client: Client) => Promise<T>, find: (client: Client) => Promise<T | undefined>): Promise<T> {
    try {
      return await this.call(what, create);
    } catch (error) {
      if (!(error instanceof GitError) || (error.status ?? 0) < 500) throw error;
      const made = await this.call(`looking for what ${what} may have made`, find);
      if (made !== undefined) {
        this.options.logger.warn({ what }, `GitHub answered ${error.status} while ${what}, but it was made: using it`);
        return made;
      }
      this.options.logger.warn({ what }, `GitHub answered ${error.status} while ${what}, and nothing was made: trying once more (${error.message})`);
      return this.call(what, create);
    }
  }

  private async call<T>(what: string, fn: (client: Client) => Promise<T>, needs = 'contents and pull-requests write access'): Promise<T> {
    const client = await this.client();
    try {
      return await fn(client);
    } catch (error) {
      const status = (error as { status?: number }).status;
      // GitHub's error text can echo what was sent, the token included: it is redacted here, at the edge.
      const raw = ((error as { response?: { data?: { message?: string } } }).response?.data?.message ?? (error as Error).message).split('\n')[0]!;
      const message = this.secrets.redact(raw).slice(0, 300);
      const options = status !== undefined ? { status } : {};
      if (status === 401) throw new GitError(`GitHub refused the credentials while ${what} (401 ${message}); check GITHUB_TOKEN or the GitHub App settings`, options);
      if (status === 403 || status === 404) throw new GitError(`GitHub denied ${what} on ${this.repository} (${status} ${message}); the credentials need ${needs}`, options);
      throw new GitError(`GitHub failed while ${what} on ${this.repository}: ${status ?? ''} ${message}`.replace(/\s+/g, ' ').trim(), options);
    }
  }
}

/** What a workflow's `permissions:` must grant for a check run (fork pull requests' tokens never have it). */
const CHECKS_WRITE = '`checks: write` (a workflow\'s permissions; a pull request from a fork gets a read-only token)';
const PULL_REQUESTS_WRITE = '`pull-requests: write` (a workflow\'s permissions; a pull request from a fork gets a read-only token)';

function sameEvidence(a: StateMarker, b: StateMarker): boolean {
  return a.plan === b.plan && a.stage === b.stage && a.verdict === b.verdict && a.evidence !== undefined && a.evidence === b.evidence;
}

async function createClient(options: GitHubForgeOptions, secrets: Redactor): Promise<Client> {
  const [{ createAppAuth }, { retry }, { throttling }, { Octokit }, { default: Bottleneck }] = await Promise.all([import('@octokit/auth-app'), import('@octokit/plugin-retry'), import('@octokit/plugin-throttling'), import('@octokit/rest'), import('bottleneck')]);
  const retries = options.rateLimitRetries ?? 3;
  const interval = options.writeIntervalMs;
  const onLimit = (kind: string) => (retryAfter: number, request: { method: string; url: string }, _octokit: unknown, retryCount: number) => {
    options.logger.warn({ retryAfter, attempt: retryCount + 1 }, `GitHub ${kind} on ${request.method} ${request.url}; retrying after ${retryAfter}s`);
    return retryCount < retries;
  };
  const client = new (Octokit.plugin(retry, throttling))({
    ...('token' in options.auth ? { auth: options.auth.token } : { authStrategy: createAppAuth, auth: { appId: options.auth.appId, privateKey: options.auth.privateKey, installationId: options.auth.installationId } }),
    ...(options.baseUrl ? { baseUrl: options.baseUrl.replace(/\/$/, '') } : {}),
    userAgent: 'meshdrill',
    log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    // Server errors are retried with backoff by the retry plugin; rate limits (403/429) are left
    // to the throttling plugin, which waits what GitHub's retry-after or reset headers say.
    retry: { retries: 2, retryAfterBaseValue: options.retryAfterUnitMs ?? 1000, doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451] },
    throttle: {
      onRateLimit: onLimit('rate limit'),
      onSecondaryRateLimit: onLimit('secondary rate limit'),
      retryAfterBaseValue: options.retryAfterUnitMs ?? 1000,
      ...(interval !== undefined
        ? {
            write: new Bottleneck.Group({ maxConcurrent: 1, minTime: interval }),
            notifications: new Bottleneck.Group({ maxConcurrent: 1, minTime: interval }),
          }
        : {}),
    },
  });
  // Everything posted passes here: no secret reaches a pull request, issue, comment or check run.
  // Headers (where the token travels) and the request's own settings are left as they are.
  client.hook.before('request', (request) => {
    const params = request as unknown as Record<string, unknown>;
    for (const key of Object.keys(params)) if (!['headers', 'request', 'url', 'method', 'baseUrl', 'mediaType'].includes(key)) params[key] = secrets.redactDeep(params[key]);
  });
  return client;
}
