import { execFileSync } from 'node:child_process';
import { createVerify, type KeyObject } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GitHubOpenApi } from './openapi.js';

export interface FakePull {
  number: number;
  title: string;
  body: string;
  head: string;
  base: string;
  state: 'open' | 'closed';
  merged: boolean;
  /** The commit the merge made on the base branch. */
  mergeCommit?: string;
  labels: string[];
  comments: string[];
}

export interface FakeIssue {
  number: number;
  title: string;
  body: string;
  state: 'open' | 'closed';
  stateReason?: string;
  labels: string[];
  comments: string[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  template?: string;
  body: unknown;
  status: number;
}

interface Fault {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
  match?: (method: string, path: string) => boolean;
}

let openapi: GitHubOpenApi | undefined;

/**
 * A local GitHub speaking the REST subset meshdrill uses, with every request and response checked
 * against GitHub's published OpenAPI description; `violations` lists anything that did not match.
 */
export class FakeGitHub {
  readonly pulls: FakePull[] = [];
  readonly issues: FakeIssue[] = [];
  readonly statuses: Array<{ sha: string; state: string; context: string; description: string }> = [];
  readonly checkRuns: Array<{ id: number; name: string; sha: string; conclusion: string; summary: string; annotations: unknown[] }> = [];
  readonly requests: RecordedRequest[] = [];
  readonly violations: string[] = [];
  /** Everything the server received, to assert that no secret was echoed back. */
  readonly responses: string[] = [];
  canPush = true;
  /** A read-only token, as a pull request from a fork gets: check runs and comments are refused with 403. */
  readOnly = false;
  /**
   * The bare repository behind this GitHub: the Git Data API (commits, trees, refs) reads and
   * writes it with git's own plumbing, so what the API makes is fetched like anything pushed.
   */
  gitDir?: string;
  /** Commits made through the API, which GitHub signs: they show as Verified. */
  readonly verifiedCommits: string[] = [];
  /** Who GitHub says made an API commit: the token's identity (an App's bot user). */
  apiIdentity = { name: 'meshdrill-app[bot]', email: '1234+meshdrill-app[bot]@users.noreply.github.com' };
  /** A GitHub App installation that trades a JWT signed by the app for this server's token. */
  app?: { appId: string; installationId: string; publicKey: KeyObject };
  private readonly faults: Fault[] = [];
  private server?: Server;
  private readonly api: GitHubOpenApi;
  url = '';

  constructor(
    readonly owner: string,
    readonly repo: string,
    private readonly token: string,
  ) {
    this.api = openapi ??= new GitHubOpenApi();
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The next `times` matching requests fail with this status, headers and body. */
  fail(times: number, fault: Omit<Fault, 'match'> & { method?: string }): void {
    const match = fault.method ? (method: string) => method === fault.method : undefined;
    for (let i = 0; i < times; i++) this.faults.push({ ...fault, ...(match ? { match } : {}) });
  }

  /** Requests that change something. */
  writes(): RecordedRequest[] {
    return this.requests.filter((r) => r.method !== 'GET');
  }

  /** A person merges the pull request on GitHub (the git side is the test's to do). */
  merge(number: number, commit?: string): void {
    const pr = this.pull(number);
    pr.merged = true;
    if (commit) pr.mergeCommit = commit;
    pr.state = 'closed';
  }

  issue(number: number): FakeIssue {
    const issue = this.issues.find((i) => i.number === number);
    if (!issue) throw new Error(`no issue #${number}`);
    return issue;
  }

  /** Issues and pull requests share one sequence of numbers, as on GitHub. */
  private nextNumber(): number {
    return this.pulls.length + this.issues.length + 1;
  }

  pull(number: number): FakePull {
    const pr = this.pulls.find((p) => p.number === number);
    if (!pr) throw new Error(`no pull request #${number}`);
    return pr;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://github.invalid');
    const method = req.method ?? 'GET';
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      this.violations.push(`${method} ${url.pathname}: body is not JSON`);
    }
    const template = this.api.find(method, url.pathname);
    const record: RecordedRequest = { method, path: url.pathname + url.search, ...(template ? { template } : {}), body, status: 0 };
    this.requests.push(record);
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      if (template && status < 400) this.violations.push(...this.api.validateResponse(method, template, status, payload));
      const out = payload === undefined ? '' : JSON.stringify(payload);
      this.responses.push(out);
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(out);
    };
    if (!template) {
      this.violations.push(`${method} ${url.pathname} is not an operation GitHub documents`);
      return send(404, { message: 'Not Found' });
    }
    this.violations.push(...this.api.validateRequest(method, template, body));
    const auth = req.headers.authorization ?? '';
    const installation = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(url.pathname);
    if (installation && method === 'POST') {
      if (!this.app || installation[1] !== this.app.installationId || !verifyAppJwt(auth, this.app)) return send(401, { message: 'A JSON web token could not be decoded', documentation_url: 'https://docs.github.com/rest' });
      return send(201, { ...this.api.sample('installation-token'), token: this.token, expires_at: '2099-01-01T00:00:00Z' });
    }
    if (auth !== `token ${this.token}` && auth !== `bearer ${this.token}` && auth !== `Bearer ${this.token}`) return send(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' });
    const faultIndex = this.faults.findIndex((f) => !f.match || f.match(method, url.pathname));
    if (faultIndex >= 0) {
      const [fault] = this.faults.splice(faultIndex, 1);
      return send(fault!.status, fault!.body, fault!.headers);
    }
    const prefix = `/repos/${this.owner}/${this.repo}`;
    if (!url.pathname.startsWith(prefix)) return send(404, { message: 'Not Found' });
    const rest = url.pathname.slice(prefix.length);
    const input = (body ?? {}) as Record<string, unknown>;
    let m: RegExpExecArray | null;
    if (this.readOnly && method !== 'GET') return send(403, { message: 'Resource not accessible by integration' });
    if (method === 'GET' && rest === '') return send(200, this.repository());
    if (method === 'GET' && rest === '/pulls') {
      const state = url.searchParams.get('state') ?? 'open';
      return send(200, this.pulls.filter((p) => state === 'all' || p.state === state).map((p) => this.pullSimple(p)));
    }
    if (method === 'POST' && rest === '/pulls') {
      if (!this.canPush) return send(403, { message: 'Resource not accessible by integration' });
      if (this.pulls.some((p) => p.state === 'open' && p.head === input['head'])) return send(422, { message: 'Validation Failed', errors: [{ message: `A pull request already exists for ${this.owner}:${String(input['head'])}.` }] });
      const pr: FakePull = { number: this.nextNumber(), title: String(input['title']), body: String(input['body'] ?? ''), head: String(input['head']), base: String(input['base']), state: 'open', merged: false, labels: [], comments: [] };
      this.pulls.push(pr);
      return send(201, this.pullFull(pr));
    }
    if ((m = /^\/pulls\/(\d+)$/.exec(rest))) {
      const pr = this.pulls.find((p) => p.number === Number(m![1]));
      if (!pr) return send(404, { message: 'Not Found' });
      if (method === 'GET') return send(200, this.pullFull(pr));
      if (method === 'PATCH') {
        if (typeof input['title'] === 'string') pr.title = input['title'];
        if (typeof input['body'] === 'string') pr.body = input['body'];
        if (input['state'] === 'closed' || input['state'] === 'open') pr.state = input['state'];
        return send(200, this.pullFull(pr));
      }
    }
    if (rest === '/issues' && method === 'GET') {
      const state = url.searchParams.get('state') ?? 'open';
      const labels = (url.searchParams.get('labels') ?? '').split(',').filter(Boolean);
      const matches = (t: { state: string; labels: string[] }) => (state === 'all' || t.state === state) && labels.every((l) => t.labels.includes(l));
      // GitHub lists pull requests among issues, marked by a pull_request key.
      return send(200, [...this.issues.filter(matches).map((i) => this.issueJson(i)), ...this.pulls.filter(matches).map((p) => ({ ...this.issueJson({ ...p, stateReason: undefined } as FakeIssue), pull_request: { url: '', html_url: '', diff_url: '', patch_url: '' } }))]);
    }
    if (rest === '/issues' && method === 'POST') {
      const issue: FakeIssue = { number: this.nextNumber(), title: String(input['title']), body: String(input['body'] ?? ''), state: 'open', labels: [...((input['labels'] ?? []) as string[])], comments: [] };
      this.issues.push(issue);
      return send(201, this.issueJson(issue));
    }
    if ((m = /^\/issues\/(\d+)$/.exec(rest)) && method === 'PATCH') {
      const issue = this.issues.find((i) => i.number === Number(m![1]));
      if (!issue) return send(404, { message: 'Not Found' });
      if (typeof input['title'] === 'string') issue.title = input['title'];
      if (typeof input['body'] === 'string') issue.body = input['body'];
      if (input['state'] === 'closed' || input['state'] === 'open') issue.state = input['state'];
      if (typeof input['state_reason'] === 'string') issue.stateReason = input['state_reason'];
      return send(200, this.issueJson(issue));
    }
    if ((m = /^\/issues\/(\d+)\/(labels|comments)$/.exec(rest))) {
      const pr = this.pulls.find((p) => p.number === Number(m![1])) ?? this.issues.find((i) => i.number === Number(m![1]));
      if (!pr) return send(404, { message: 'Not Found' });
      if (m[2] === 'labels' && method === 'POST') {
        for (const label of (input['labels'] ?? []) as string[]) if (!pr.labels.includes(label)) pr.labels.push(label);
        return send(200, pr.labels.map((name, i) => this.label(name, i)));
      }
      if (m[2] === 'comments' && method === 'GET') return send(200, pr.comments.map((c, i) => this.comment(pr, c, i)));
      if (m[2] === 'comments' && method === 'POST') {
        pr.comments.push(String(input['body']));
        return send(201, this.comment(pr, String(input['body']), pr.comments.length - 1));
      }
    }
    if (rest === '/check-runs' && method === 'POST') {
      const output = (input['output'] ?? {}) as { summary?: string; annotations?: unknown[] };
      const run = { id: this.checkRuns.length + 1, name: String(input['name']), sha: String(input['head_sha']), conclusion: String(input['conclusion']), summary: output.summary ?? '', annotations: [...(output.annotations ?? [])] };
      this.checkRuns.push(run);
      return send(201, { ...this.api.sample('check-run'), id: run.id, name: run.name, head_sha: run.sha, status: 'completed', conclusion: run.conclusion });
    }
    if ((m = /^\/check-runs\/(\d+)$/.exec(rest)) && method === 'PATCH') {
      const run = this.checkRuns.find((r) => r.id === Number(m![1]));
      if (!run) return send(404, { message: 'Not Found' });
      run.annotations.push(...(((input['output'] ?? {}) as { annotations?: unknown[] }).annotations ?? []));
      return send(200, { ...this.api.sample('check-run'), id: run.id, name: run.name, head_sha: run.sha, status: 'completed', conclusion: run.conclusion });
    }
    if ((m = /^\/issues\/comments\/(\d+)$/.exec(rest)) && method === 'PATCH') {
      const id = Number(m[1]);
      const pr = this.pulls.find((p) => p.number === Math.floor(id / 1000)) ?? this.issues.find((i) => i.number === Math.floor(id / 1000));
      if (!pr || pr.comments[id % 1000] === undefined) return send(404, { message: 'Not Found' });
      pr.comments[id % 1000] = String(input['body']);
      return send(200, this.comment(pr, pr.comments[id % 1000]!, id % 1000));
    }
    // octokit escapes the slashes of a ref ({ref} is one path parameter).
    if (rest.startsWith('/git/')) return this.gitData(method, decodeURIComponent(rest), input, send);
    if ((m = /^\/statuses\/([0-9a-f]{7,40})$/.exec(rest)) && method === 'POST') {
      this.statuses.push({ sha: m[1]!, state: String(input['state']), context: String(input['context']), description: String(input['description'] ?? '') });
      return send(201, { ...this.api.sample('status'), id: this.statuses.length, state: input['state'], context: input['context'], description: input['description'] ?? null });
    }
    return send(404, { message: 'Not Found' });
  }

  private git(args: string[], options: { input?: string; env?: Record<string, string> } = {}): string {
    return execFileSync('git', args, { cwd: this.gitDir!, encoding: 'utf8', input: options.input ?? '', env: { ...process.env, ...options.env } }).trim();
  }

  /** GitHub's Git Data API over the bare repository (docs.github.com/rest/git). */
  private gitData(method: string, rest: string, input: Record<string, unknown>, send: (status: number, payload: unknown) => void): void {
    if (!this.gitDir) return send(404, { message: 'Not Found' });
    const exists = (rev: string) => { try { return this.git(['rev-parse', '--verify', '--quiet', rev]); } catch { return undefined; } };
    const commitJson = (sha: string) => {
      const tree = this.git(['rev-parse', `${sha}^{tree}`]);
      return { ...this.api.sample('git-commit'), sha, node_id: sha, tree: { sha: tree, url: '' }, message: this.git(['log', '-1', '--format=%B', sha]), parents: this.git(['log', '-1', '--format=%P', sha]).split(' ').filter(Boolean).map((p) => ({ sha: p, url: '', html_url: '' })), verification: { verified: this.verifiedCommits.includes(sha), reason: this.verifiedCommits.includes(sha) ? 'valid' : 'unsigned', signature: null, payload: null, verified_at: null } };
    };
    const refJson = (ref: string, sha: string) => ({ ...this.api.sample('git-ref'), ref: `refs/${ref}`, object: { type: 'commit', sha, url: '' } });
    let m: RegExpExecArray | null;
    if ((m = /^\/git\/commits\/([0-9a-f]{40})$/.exec(rest)) && method === 'GET') return exists(`${m[1]}^{commit}`) ? send(200, commitJson(m[1]!)) : send(404, { message: 'Not Found' });
    if (rest === '/git/trees' && method === 'POST') {
      const index = join(tmpdir(), `fake-github-index-${process.pid}-${Date.now()}`);
      const env = { GIT_INDEX_FILE: index };
      try {
        this.git(['read-tree', String(input['base_tree'])], { env });
        for (const entry of (input['tree'] ?? []) as Array<{ path: string; mode: string; sha?: string | null; content?: string }>) {
          if (entry.sha === null) this.git(['update-index', '--force-remove', '--', entry.path], { env });
          else this.git(['update-index', '--add', '--cacheinfo', `${entry.mode},${entry.content !== undefined ? this.git(['hash-object', '-w', '--stdin'], { input: entry.content }) : entry.sha},${entry.path}`], { env });
        }
        const sha = this.git(['write-tree'], { env });
        return send(201, { ...this.api.sample('git-tree'), sha, url: '', truncated: false, tree: [] });
      } finally {
        rmSync(index, { force: true });
      }
    }
    if (rest === '/git/commits' && method === 'POST') {
      // No author given: GitHub commits as the token's identity, and signs the commit.
      const who = { GIT_AUTHOR_NAME: this.apiIdentity.name, GIT_AUTHOR_EMAIL: this.apiIdentity.email, GIT_COMMITTER_NAME: 'GitHub', GIT_COMMITTER_EMAIL: 'noreply@github.com' };
      const parents = ((input['parents'] ?? []) as string[]).flatMap((p) => ['-p', p]);
      const sha = this.git(['commit-tree', String(input['tree']), ...parents, '-F', '-'], { input: String(input['message']), env: who });
      this.verifiedCommits.push(sha);
      return send(201, commitJson(sha));
    }
    if ((m = /^\/git\/ref\/(heads\/.+)$/.exec(rest)) && method === 'GET') {
      const sha = exists(`refs/${m[1]}`);
      return sha ? send(200, refJson(m[1]!, sha)) : send(404, { message: 'Not Found' });
    }
    if (rest === '/git/refs' && method === 'POST') {
      const ref = String(input['ref']);
      if (exists(ref)) return send(422, { message: 'Reference already exists' });
      this.git(['update-ref', ref, String(input['sha'])]);
      return send(201, refJson(ref.replace(/^refs\//, ''), String(input['sha'])));
    }
    if ((m = /^\/git\/refs\/(heads\/.+)$/.exec(rest)) && method === 'PATCH') {
      const current = exists(`refs/${m[1]}`);
      if (!current) return send(422, { message: 'Reference does not exist' });
      const ancestor = (() => { try { this.git(['merge-base', '--is-ancestor', current, String(input['sha'])]); return true; } catch { return false; } })();
      if (!ancestor && input['force'] !== true) return send(422, { message: 'Update is not a fast forward' });
      this.git(['update-ref', `refs/${m[1]}`, String(input['sha'])]);
      return send(200, refJson(m[1]!, String(input['sha'])));
    }
    return send(404, { message: 'Not Found' });
  }

  private repository(): Record<string, unknown> {
    const sample = this.api.sample('full-repository');
    return { ...sample, name: this.repo, full_name: `${this.owner}/${this.repo}`, default_branch: 'main', owner: { ...this.api.sample('simple-user'), login: this.owner }, permissions: { admin: false, maintain: false, push: this.canPush, triage: true, pull: true } };
  }

  private head(pr: FakePull): Record<string, unknown> {
    const repo = { ...this.api.sample('repository'), name: this.repo, full_name: `${this.owner}/${this.repo}` };
    return { ...(this.api.sample('pull-request-simple')['head'] as Record<string, unknown>), ref: pr.head, label: `${this.owner}:${pr.head}`, sha: '0'.repeat(40), repo, user: { ...this.api.sample('simple-user'), login: this.owner } };
  }

  private common(pr: FakePull): Record<string, unknown> {
    return {
      number: pr.number,
      id: pr.number,
      title: pr.title,
      body: pr.body,
      state: pr.state,
      html_url: `https://github.invalid/${this.owner}/${this.repo}/pull/${pr.number}`,
      labels: pr.labels.map((name, i) => this.label(name, i)),
      head: this.head(pr),
      base: { ...this.head(pr), ref: pr.base, label: `${this.owner}:${pr.base}` },
    };
  }

  private pullSimple(pr: FakePull): Record<string, unknown> {
    return { ...this.api.sample('pull-request-simple'), ...this.common(pr) };
  }

  private pullFull(pr: FakePull): Record<string, unknown> {
    return { ...this.api.sample('pull-request'), ...this.common(pr), merged: pr.merged, merge_commit_sha: pr.mergeCommit ?? null, labels: pr.labels.map((name, i) => this.label(name, i)) };
  }

  private issueJson(issue: FakeIssue): Record<string, unknown> {
    return {
      ...this.api.sample('issue'),
      id: issue.number,
      number: issue.number,
      title: issue.title,
      body: issue.body,
      state: issue.state,
      state_reason: issue.stateReason ?? null,
      html_url: `https://github.invalid/${this.owner}/${this.repo}/issues/${issue.number}`,
      labels: issue.labels.map((name, i) => this.label(name, i)),
    };
  }

  private label(name: string, i: number): Record<string, unknown> {
    return { ...this.api.sample('label'), id: i + 1, name, color: 'ededed', description: '' };
  }

  private comment(pr: { number: number }, body: string, i: number): Record<string, unknown> {
    return { ...this.api.sample('issue-comment'), id: pr.number * 1000 + i, body };
  }
}

/** An RS256 JWT whose issuer is the app and whose signature the app's public key verifies. */
function verifyAppJwt(header: string, app: { appId: string; publicKey: KeyObject }): boolean {
  const match = /^bearer (.+)$/i.exec(header);
  const [head, payload, signature] = (match?.[1] ?? '').split('.');
  if (!head || !payload || !signature) return false;
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { iss?: unknown };
  if (String(claims.iss) !== app.appId) return false;
  return createVerify('RSA-SHA256').update(`${head}.${payload}`).verify(app.publicKey, Buffer.from(signature, 'base64url'));
}
