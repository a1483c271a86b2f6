import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { runCli, checkCommand, captureIO } from '../../test/helpers/cli.js';
import { FakeGitHub } from '../../test/helpers/fake-github.js';

const run = promisify(execFile);
const SHOP = join(import.meta.dirname, '..', '..', 'examples', 'shop');
const SARIF_SCHEMA = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'sarif', 'sarif-2.1.0-rtm.5.json');

async function git(cwd: string, ...args: string[]): Promise<void> {
  await run('git', args, { cwd });
}

/** The example repo committed as base; head meshes payments and makes it STRICT. */
async function repoWithStrictPayments(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'meshdrill-check-'));
  await cp(SHOP, dir, { recursive: true });
  await git(dir, 'init', '-q', '-b', 'main');
  await git(dir, 'add', '-A');
  await git(dir, '-c', 'user.name=Pat', '-c', 'user.email=pat@example.com', 'commit', '-q', '-m', 'base');
  const namespaces = await readFile(join(dir, 'manifests', 'namespaces.yaml'), 'utf8');
  await writeFile(join(dir, 'manifests', 'namespaces.yaml'), namespaces.replace('    team: payments', '    team: payments\n    istio-injection: enabled'));
  await writeFile(join(dir, 'manifests', 'payments-strict.yaml'), 'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: payments\nspec:\n  mtls:\n    mode: STRICT\n');
  await git(dir, 'add', '-A');
  await git(dir, '-c', 'user.name=Pat', '-c', 'user.email=pat@example.com', 'commit', '-q', '-m', 'payments STRICT');
  return dir;
}

describe('meshdrill check', () => {
  it('names the calls a head that flips payments to STRICT would break, and the rule it breaks', async () => {
    const dir = await repoWithStrictPayments();
    const io = captureIO(dir);

    const code = await runCli(['check', '.', '--base', 'HEAD~1', '--head', 'HEAD'], io);

    const text = io.out.join('');
    expect(code).toBe(1);
    expect(text).toContain('manifests/payments-strict.yaml:8:5 error MD101 strict-with-plaintext-callers: payments is STRICT, but 3 callers are not meshed: checkout/api → payments/api, legacy/batch → payments/api, legacy/reporting → payments/ledger');
    expect(text).toContain('BROKEN legacy/batch → payments/api: ok → failing (0% success)');
    expect(text).toContain('BROKEN checkout/api → payments/api: ok → failing (0% success)');
    expect(text).toContain('BROKEN SLO batch-to-payments (>= 99%): Successful (100% meets >= 99%) → Failed (0% misses >= 99%)');
    expect(text).toMatch(/\(base \d+ ms, head \d+ ms on the embedded cluster\)/);
  });

  it('names the changed objects that decided each broken call, and groups the calls that only lost their traffic under it', async () => {
    const dir = await repoWithStrictPayments();
    const io = captureIO(dir);

    await runCli(['check', '.', '--base', 'HEAD~1', '--head', 'HEAD'], io);

    const text = io.out.join('');
    expect(text).toMatch(/^meshdrill check: 1 errors, 2 warnings, 3 calls broken by the change \(and 7 downstream of them without traffic\)\n/);
    expect(text).toContain([
      '  BROKEN checkout/api → payments/api: ok → failing (0% success)',
      '      by manifests/namespaces.yaml:15:5 Namespace payments metadata.labels.istio-injection (changed)',
      '      by manifests/payments-strict.yaml:8:5 PeerAuthentication payments/default spec.mtls.mode (added)',
      '      and 3 calls downstream lost their traffic: payments/api → payments/fraud, payments/api → payments/tokenizer, payments/api → payments/ledger',
    ].join('\n'));
    // A starved call is not a line of its own.
    expect(text).not.toMatch(/^ {2}BROKEN payments\/api → payments\/fraud/m);
  });

  it.skipIf(!existsSync(SARIF_SCHEMA))('writes SARIF 2.1.0 that validates against its published schema, a result per finding and broken call at its line', async () => {
    const dir = await repoWithStrictPayments();
    const io = captureIO(dir);

    await runCli(['check', '.', '--base', 'HEAD~1', '--head', 'HEAD', '--format', 'sarif'], io);

    const log = JSON.parse(io.out.join('')) as { runs: Array<{ results: Array<{ ruleId: string; level: string; baselineState?: string; locations?: Array<{ physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number; startColumn?: number } } }> }> }> };
    const schema = JSON.parse((await readFile(SARIF_SCHEMA, 'utf8')).replace('"id": "https://raw', '"$id": "https://raw')) as Record<string, unknown>;
    delete schema['$schema'];
    const validate = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false }).compile(schema);
    expect(validate(log), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    const results = log.runs[0]!.results;
    expect(results.find((r) => r.ruleId === 'MD101')).toMatchObject({ level: 'error', baselineState: 'new', locations: [{ physicalLocation: { artifactLocation: { uri: 'manifests/payments-strict.yaml' }, region: { startLine: 8, startColumn: 5 } } }] });
    expect(results.filter((r) => r.ruleId === 'MD201')).toHaveLength(3);
  });

  it('does not flag the outside calling an ingress gateway in a STRICT namespace: a gateway has no inbound sidecar', async () => {
    const dir = await repoWithStrictPayments();
    await writeFile(join(dir, 'manifests', 'payments-strict.yaml'), 'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: ingress\nspec:\n  mtls:\n    mode: STRICT\n');
    await git(dir, 'add', '-A');
    await git(dir, '-c', 'user.name=Pat', '-c', 'user.email=pat@example.com', 'commit', '-q', '-m', 'ingress STRICT instead');
    const io = captureIO(dir);

    await runCli(['check', '.', '--base', 'HEAD~2', '--head', 'HEAD', '--output', 'json'], io);
    expect(io.err.join(''), io.out.join('')).toBe('');

    const report = JSON.parse(io.out.join('')) as { findings: Array<{ rule: string; message: string }>; broken?: unknown[] };
    expect(report.findings.filter((f) => f.rule === 'MD101')).toEqual([]);
    expect(JSON.stringify(report)).not.toContain('outside → ingress/gateway');
  });

  it('writes a pull-request comment with the findings and the broken calls, escaped', async () => {
    const dir = await repoWithStrictPayments();
    const io = captureIO(dir);

    await runCli(['check', '.', '--base', 'HEAD~1', '--head', 'HEAD', '--format', 'md'], io);

    const comment = io.out.join('');
    expect(comment.split('\n')[0]).toMatch(/^## ❌ meshdrill check: 1 errors, \d+ broken calls$/);
    expect(comment).toContain('| ❌ legacy/batch → payments/api | ok | failing \\(0% success\\) | manifests/namespaces.yaml:15 Namespace payments `metadata.labels.istio-injection` (changed)<br>manifests/payments-strict.yaml:8 PeerAuthentication payments/default `spec.mtls.mode` (added) |');
  });

  it('passes the example repo as it is, and refuses a ref that does not exist', async () => {
    const dir = await repoWithStrictPayments();
    const clean = captureIO(dir);
    const badRef = captureIO(dir);

    const cleanCode = await runCli(['check', '.', '--head', 'HEAD~1'], clean);
    const badCode = await runCli(['check', '.', '--base', 'no-such-branch'], badRef);

    expect(cleanCode).toBe(0);
    expect(clean.out.join('')).toMatch(/^meshdrill check: 0 errors, \d+ warnings\n/);
    expect(badCode).toBe(2);
    expect(badRef.err.join('')).toBe('meshdrill: git ref "no-such-branch" does not exist in .\n');
  });

  it('posts a check run annotating the YAML line, and keeps one comment on the pull request up to date', async () => {
    const dir = await repoWithStrictPayments();
    const github = await new FakeGitHub('platform', 'mesh-config', 'ghs_checkToken000000000000000000000000').start();
    github.pulls.push({ number: 7, title: 'payments STRICT', body: '', head: 'strict', base: 'main', state: 'open', merged: false, labels: [], comments: [] });
    const io = { ...captureIO(dir), env: { GITHUB_TOKEN: 'ghs_checkToken000000000000000000000000', GITHUB_REPOSITORY: 'platform/mesh-config', GITHUB_API_URL: github.url } };

    try {
      const first = await checkCommand('.', { base: 'HEAD~1', head: 'HEAD', output: 'text', github: { pr: 7, writeIntervalMs: 0 } }, io);
      await checkCommand('.', { base: 'HEAD~1', head: 'HEAD', output: 'text', github: { pr: 7, writeIntervalMs: 0 } }, io);

      expect(first).toBe(1);
      expect(github.checkRuns).toHaveLength(2);
      expect(github.checkRuns[0]).toMatchObject({ name: 'meshdrill check', conclusion: 'failure' });
      expect(github.checkRuns[0]!.annotations).toContainEqual(expect.objectContaining({ path: 'manifests/payments-strict.yaml', start_line: 8, start_column: 5, annotation_level: 'failure', title: 'MD101 strict-with-plaintext-callers' }));
      expect(github.pull(7).comments).toHaveLength(1);
      expect(github.pull(7).comments[0]).toMatch(/^## ❌ meshdrill check/);
      expect(github.violations).toEqual([]);
    } finally {
      await github.stop();
    }
  });

  it('posts on the pull request\'s head commit from the event, and with a read-only token (a fork) prints results, then annotations as workflow commands', async () => {
    const dir = await repoWithStrictPayments();
    const github = await new FakeGitHub('platform', 'mesh-config', 'ghs_checkToken000000000000000000000000').start();
    github.pulls.push({ number: 7, title: 'payments STRICT', body: '', head: 'strict', base: 'main', state: 'open', merged: false, labels: [], comments: [] });
    const headSha = 'a'.repeat(40);
    await writeFile(join(dir, 'event.json'), JSON.stringify({ pull_request: { number: 7, head: { sha: headSha } } }));
    const env = { GITHUB_TOKEN: 'ghs_checkToken000000000000000000000000', GITHUB_REPOSITORY: 'platform/mesh-config', GITHUB_API_URL: github.url, GITHUB_EVENT_PATH: join(dir, 'event.json'), GITHUB_SHA: 'b'.repeat(40), GITHUB_STEP_SUMMARY: join(dir, 'summary.md') };

    try {
      const posted = await checkCommand('.', { base: 'HEAD~1', output: 'text', github: { pr: 7, writeIntervalMs: 0 } }, { ...captureIO(dir), env });
      github.readOnly = true;
      const fork = { ...captureIO(dir), env };
      const code = await checkCommand('.', { base: 'HEAD~1', output: 'text', github: { pr: 7, writeIntervalMs: 0 } }, fork);

      expect(posted).toBe(1);
      expect(github.checkRuns.map((r) => r.sha)).toEqual([headSha]);
      expect(code).toBe(1);
      const out = fork.out.join('');
      expect(out.indexOf('meshdrill check: 1 errors')).toBe(0);
      expect(out).toContain('::error file=manifests/payments-strict.yaml,line=8,col=5,title=MD101 strict-with-plaintext-callers::payments is STRICT, but 3 callers are not meshed');
      expect(fork.err.join('')).toContain('the credentials need `checks: write`');
      expect(fork.err.join('')).toContain('as workflow commands and the results to the step summary instead');
      expect(await readFile(join(dir, 'summary.md'), 'utf8')).toMatch(/^## ❌ meshdrill check/);
      expect(github.violations).toEqual([]);
    } finally {
      await github.stop();
    }
  });

  it('--help lists every rule with its severity and the istioctl/Kiali codes it covers', async () => {
    const { RULES } = await import('./rules.js');
    const io = captureIO(SHOP);
    await runCli(['check', '--help'], io).catch(() => undefined);
    const help = io.out.join('');

    for (const r of RULES) expect(help).toMatch(new RegExp(`^  ${r.id} ${r.name} +${r.severity} .*${(r.covers ?? []).map((c) => `${c}`).join(', ')}`, 'm'));
  });

  it.skipIf(spawnSync('xmllint', ['--version']).status !== 0)('writes JUnit that validates against the schema CI systems read', async () => {
    const dir = await repoWithStrictPayments();
    const io = captureIO(dir);

    await runCli(['check', '.', '--base', 'HEAD~1', '--head', 'HEAD', '--format', 'junit'], io);
    await writeFile(join(dir, 'check.xml'), io.out.join(''));
    const result = await run('xmllint', ['--noout', '--schema', join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'junit', 'junit.xsd'), join(dir, 'check.xml')]).then((r) => r.stderr, (e: { stderr: string }) => e.stderr);

    expect(result.trim()).toBe(`${join(dir, 'check.xml')} validates`);
    expect(io.out.join('')).toContain('<testsuite name="behaviour: base vs head"');
  });

  it('takes severities from the repo\'s CheckConfig, but from the base when there is one, so a change cannot silence the rule it breaks', async () => {
    const dir = await repoWithStrictPayments();
    await writeFile(join(dir, 'check.yaml'), 'apiVersion: meshdrill.dev/v1alpha1\nkind: CheckConfig\nmetadata:\n  name: shop\nspec:\n  rules:\n    MD101: off\n    strict-without-authorization: info\n');
    await git(dir, 'add', '-A');
    await git(dir, '-c', 'user.name=Pat', '-c', 'user.email=pat@example.com', 'commit', '-q', '-m', 'silence MD101');
    const alone = captureIO(dir);
    const againstBase = captureIO(dir);

    const aloneCode = await runCli(['check', '.'], alone);
    const againstBaseCode = await runCli(['check', '.', '--base', 'HEAD~2', '--head', 'HEAD', '--output', 'json'], againstBase);

    expect(aloneCode).toBe(0);
    expect(alone.out.join('')).toBe('meshdrill check: 0 errors, 1 warnings\n  manifests/payments-strict.yaml:8:5 info MD103 strict-without-authorization: payments is STRICT with no AuthorizationPolicy: every meshed workload may call it\n  manifests/namespaces.yaml:15:5 warning MD107 egress-left-open: payments is meshed and its workloads may call any host outside the mesh: set a Sidecar outboundTrafficPolicy of REGISTRY_ONLY, a default-deny egress NetworkPolicy, or a Linkerd EgressNetwork with trafficPolicy: Deny\nnote: the topology\'s namespaces ingress, catalog, checkout, accounts, data, legacy have no Namespace manifest: checked as plain namespaces (not meshed, no policy)\n');
    expect(againstBaseCode).toBe(1);
    expect((JSON.parse(againstBase.out.join('')) as { findings: Array<{ rule: string; severity: string }> }).findings.map((f) => `${f.rule} ${f.severity}`)).toEqual(['MD101 error', 'MD103 warning', 'MD107 warning']);
  });

  it('fails on warnings when the CheckConfig says so, and names an unknown rule with a suggestion', async () => {
    const dir = await repoWithStrictPayments();
    await writeFile(join(dir, 'check.yaml'), 'apiVersion: meshdrill.dev/v1alpha1\nkind: CheckConfig\nmetadata:\n  name: shop\nspec:\n  failOn: warning\n  rules:\n    MD101: warning\n');
    const strictWarnings = captureIO(dir);
    const strictCode = await runCli(['check', '.', '--format', 'junit'], strictWarnings);
    await writeFile(join(dir, 'check.yaml'), 'apiVersion: meshdrill.dev/v1alpha1\nkind: CheckConfig\nmetadata:\n  name: shop\nspec:\n  rules:\n    egress-left-opne: off\n');
    const typo = captureIO(dir);
    const typoCode = await runCli(['check', '.'], typo);

    expect(strictCode).toBe(1);
    expect(strictWarnings.out.join('')).toContain('<failure message="payments is STRICT, but 3 callers');
    expect(typoCode).toBe(2);
    expect(typo.err.join('')).toContain('check.yaml:7:5 spec.rules.egress-left-opne: unknown field; did you mean "egress-left-open"?');
  });

  it('keeps manifests it has no schema for, and says so, without failing', async () => {
    const dir = await repoWithStrictPayments();
    await writeFile(join(dir, 'manifests', 'widget.yaml'), '# a CRD of some other tool\napiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: frontend\nspec: {}\n');
    const io = captureIO(dir);

    const code = await runCli(['check', '.', '--output', 'json'], io);

    expect(code).toBe(1); // the MD101 of the head, not the widget
    expect((JSON.parse(io.out.join('')) as { notes: string[] }).notes[0]).toBe('manifests/widget.yaml:2 Widget/frontend/w: kept as is; meshdrill has no schema for example.com/v1 Widget');
  });

  it('lists what the twin reads but does not model, each at its file and line, in every format', async () => {
    const dir = await repoWithStrictPayments();
    await writeFile(
      join(dir, 'manifests', 'extras.yaml'),
      [
        'apiVersion: networking.istio.io/v1alpha3',
        'kind: EnvoyFilter',
        'metadata:',
        '  name: lua-filter',
        '  namespace: payments',
        'spec:',
        '  configPatches: []',
        '---',
        'apiVersion: networking.istio.io/v1',
        'kind: DestinationRule',
        'metadata:',
        '  name: api',
        '  namespace: payments',
        'spec:',
        '  host: api',
        '  trafficPolicy:',
        '    loadBalancer:',
        '      consistentHash:',
        '        httpHeaderName: x-user',
        '',
      ].join('\n'),
    );
    await git(dir, 'add', '-A');
    await git(dir, '-c', 'user.name=Pat', '-c', 'user.email=pat@example.com', 'commit', '-q', '-m', 'extras');
    const text = captureIO(dir);
    const json = captureIO(dir);
    const md = captureIO(dir);

    await runCli(['check', '.', '--base', 'HEAD~1', '--head', 'HEAD'], text);
    await runCli(['check', '.', '--base', 'HEAD~1', '--head', 'HEAD', '--output', 'json'], json);
    await runCli(['check', '.', '--base', 'HEAD~1', '--head', 'HEAD', '--format', 'md'], md);

    expect(text.out.join('')).toContain('not modelled: manifests/extras.yaml:1 EnvoyFilter payments/lua-filter: Envoy configuration patches are not modelled\n');
    expect(text.out.join('')).toContain('not modelled: manifests/extras.yaml:18 DestinationRule payments/api: spec.trafficPolicy.loadBalancer.consistentHash is not modelled\n');
    expect((JSON.parse(json.out.join('')) as { notModelled: string[] }).notModelled).toHaveLength(2);
    expect(md.out.join('')).toContain('2 things the twin read but does not model');
  });

  it('refuses a head whose manifests do not match their schemas, naming the file and line', async () => {
    const dir = await repoWithStrictPayments();
    await writeFile(join(dir, 'manifests', 'payments-strict.yaml'), 'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: payments\nspec:\n  mtls:\n    mode: STRICTLY\n');
    const io = captureIO(dir);

    const code = await runCli(['check', '.'], io);

    expect(code).toBe(2);
    expect(io.err.join('')).toBe('meshdrill: . has 1 invalid manifest:\n  manifests/payments-strict.yaml:1 PeerAuthentication/payments/default: data/spec/mtls/mode must be equal to one of the allowed values\n');
  });
});
