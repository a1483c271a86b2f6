import { Command, CommanderError, Option } from 'commander';
import { ConfigError, createLogger, LOG_LEVELS, MeshdrillError, type LogLevel } from '../../core/index.js';
import { painter, processIO, redactingIO, type CliIO } from './io.js';
import type { ReportOptions } from './report-command.js';
import type { SimServeOptions } from './sim-command.js';
import type { OutputFormat } from './validate-command.js';
import { VERSION } from './version.js';

// Each command's module is imported when the command runs, so `--help`, `--version` and `validate`
// do not load the Kubernetes client, octokit or the embedded cluster.
const commands = {
  validate: () => import('./validate-command.js'),
  schema: () => import('./schema-command.js'),
  rollout: () => import('./rollout-command.js'),
  gameday: () => import('./gameday-command.js'),
  report: () => import('./report-command.js'),
  check: () => import('./check-command.js'),
  init: () => import('./init-command.js'),
  sim: () => import('./sim-command.js'),
  slo: () => import('./slo-command.js'),
  cronjob: () => import('./cronjob-command.js'),
  kindClusters: () => import('../../clusters/index.js'),
};

interface GlobalOptions {
  output: OutputFormat;
  logLevel: string;
  color: boolean;
  debug: boolean;
}

/** Exit codes: 0 ok, 1 a finding (invalid config, failed gate), 2 usage or config error, 3 infrastructure error. */
export async function runCli(argv: readonly string[], given: CliIO = processIO()): Promise<number> {
  // One redaction point for everything the CLI prints: secret values from the environment and
  // those met on the way (kubeconfig tokens), and anything shaped like a token.
  const io = redactingIO(given);
  let exitCode = 0;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    return handleError(error, io, program.opts<GlobalOptions>().debug === true);
  }
}

function buildProgram(io: CliIO, setExit: (code: number) => void): Command {
  const program = new Command('meshdrill')
    .description(
      'Rehearse and drive a service-mesh migration as GitOps: mesh namespaces stage by stage, ' +
        'inject mesh-specific faults, measure SLOs under load, and move the rollout by pull request.',
    )
    .version(VERSION, '-V, --version')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .addOption(new Option('--log-level <level>', 'log verbosity on stderr').choices([...LOG_LEVELS]).default('info'))
    .option('--no-color', 'never colour output (NO_COLOR is honoured too)')
    .option('--debug', 'print stack traces of errors')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
    .exitOverride();
  program.addHelpText(
    'after',
    `
Examples:
  $ meshdrill gameday run examples/shop/gameday.yaml   the example game day, in seconds
  $ meshdrill rollout gate examples/shop               measure the live stage, propose the next
  $ meshdrill check . --base origin/main               what this change would break
  $ meshdrill report .meshdrill/runs/<id>/run.json --format md
  $ meshdrill validate examples/shop                   check a config repo (exit 1 on errors)
  $ meshdrill init my-mesh-config                      start a config repo

Documents are YAML with apiVersion: meshdrill.dev/v1alpha1 and one of the kinds
Topology, RolloutPlan, SLO, Fault, GameDay, Suite, Cluster, CheckConfig. A directory is read
as a config repo: every *.yaml in it, other Kubernetes manifests kept and ignored.`,
  );

  program
    .command('validate')
    .description('Validate config files or a config repo directory; report every problem with file:line:col')
    .argument('<paths...>', 'YAML files or directories')
    .action(async (paths: string[]) => {
      const opts = program.opts<GlobalOptions>();
      const { validateCommand } = await commands.validate();
      setExit(await validateCommand(paths, { output: opts.output }, io, painter(io, opts.color)));
    });

  program
    .command('schema')
    .description('Print the JSON Schema of a document kind (all kinds when none is given)')
    .argument('[kind]', 'Topology, RolloutPlan, SLO, Fault, GameDay, Suite or Cluster')
    .option('--out <dir>', 'write <dir>/<Kind>.json files instead of printing')
    .addHelpText('after', '\nUse it in editors: # yaml-language-server: $schema=./schemas/RolloutPlan.json')
    .action(async (kind: string | undefined, options: { out?: string }) => {
      const { schemaCommand } = await commands.schema();
      setExit(await schemaCommand(kind, options, io));
    });

  const rollout = program.command('rollout').description('The rollout plan in a config repo: where it stands, what the next stage changes, measuring it, and moving it by pull request');
  rollout
    .command('status')
    .description('Show the plan\'s current stage and what it means per namespace')
    .argument('<repo>', 'config repo directory')
    .option('--plan <name>', 'the rollout plan, when the repo has several')
    .action(async (repo: string, options: { plan?: string }) => {
      const { rolloutStatusCommand } = await commands.rollout();
      setExit(await rolloutStatusCommand(repo, { ...options, output: program.opts<GlobalOptions>().output }, io));
    });
  rollout
    .command('plan')
    .description('Show what moving to a stage (default: the next one) changes: namespaces meshed, mTLS modes, policies')
    .argument('<repo>', 'config repo directory')
    .option('--plan <name>', 'the rollout plan, when the repo has several')
    .option('--stage <n>', 'target stage (0 = unmeshed)')
    .action(async (repo: string, options: { plan?: string; stage?: string }) => {
      const { rolloutPlanCommand } = await commands.rollout();
      setExit(await rolloutPlanCommand(repo, { ...options, output: program.opts<GlobalOptions>().output }, io));
    });
  // `rollout render` and its top-level twin `render` are one command under two names.
  const render = (parent: Command, description: string) =>
    parent
      .command('render')
      .description(description)
      .argument('<repo>', 'config repo directory')
      .option('--plan <name>', 'the rollout plan, when the repo has several')
      .option('--stage <n>', 'stage to render (0 = unmeshed)')
      .option('--dry-run', 'print what would be written, write nothing')
      .action(async (repo: string, options: { plan?: string; stage?: string; dryRun?: boolean }) => {
        const { rolloutRenderCommand } = await commands.rollout();
        setExit(await rolloutRenderCommand(repo, { ...options, dryRun: options.dryRun === true, logLevel: program.opts<GlobalOptions>().logLevel }, io));
      });
  render(rollout, 'Write what a stage (default: status.stage) means into the repo: status.stage, Namespace labels, mTLS policy objects').addHelpText(
    'after',
    '\nUsers\' files are edited in place with comments and layout kept; meshdrill/<plan>/*.yaml are owned by meshdrill.',
  );
  render(program, 'Same as `rollout render`: write a stage into the repo\'s manifests for the GitOps engine');
  rollout
    .command('gate')
    .description('Measure the live stage under load on the embedded cluster (or a kind or k3s cluster), decide advance / hold / revert, and propose it as a pull request')
    .argument('<repo>', 'config repo directory (a git checkout)')
    .option('--plan <name>', 'the rollout plan, when the repo has several')
    .option('--cluster <name>', 'run on the repo\'s Cluster document of this name (provider sim, kind or k3s; kind and k3s need spec.mesh.version in the plan); default the embedded cluster')
    .option('--context <name>', 'measure the live stage on this existing cluster instead (read only: its GitOps engine applies the stages); "in-cluster" in a pod, as a CronJob')
    .option('--kubeconfig <file>', 'with --context: the kubeconfig file (default $KUBECONFIG, then ~/.kube/config)')
    .option('--prometheus <url>', 'with --context: the Prometheus that scrapes the mesh (auth from MESHDRILL_PROMETHEUS_*)')
    .addOption(new Option('--forge <forge>', 'where the pull request goes: github needs credentials; local commits a branch and writes the PR body beside the run record; auto picks github when GITHUB_TOKEN and the repository are known').choices(['auto', 'local', 'github']).default('auto'))
    .option('--remote <name>', 'git remote to push the branch to', 'origin')
    .option('--out <dir>', 'where the run record goes (default .meshdrill/runs/<run id>)')
    .option('--seed <n>', 'seed of the embedded cluster, for reproducible runs', '1')
    .option('--wait-for-merge <duration>', 'after opening the PR, poll until it is merged or closed, up to this long (GitHub only)')
    .option('--wait-for-sync <duration>', 'with --context and --wait-for-merge: then wait until the Argo CD Applications or Flux Kustomizations that apply the change report the merge commit synced and healthy')
    .option('--dry-run', 'measure and decide, then print what would be committed, pushed and opened; write nothing')
    .addHelpText(
      'after',
      `
How a gate runs: the cluster is brought to the stage before the live one and the
baseline is measured (spec.baseline.window); the live stage (status.stage) is applied
and baked (its bake) under the topology's traffic, its gates measured five times;
then the verdict. Before proposing the next stage its requires are checked
(all-callers-meshed: no plaintext into namespaces it makes STRICT).

On a live cluster (--context, with --prometheus) nothing is applied: the cluster
must show the live stage (namespace marks, proxies, policies) or the verdict is
hold; the baseline is the window before the commit that set status.stage reached
the branch (the checkout needs that history), and the bake is measured from
Prometheus as far as time has got. A failing gate reverts at once; advancing
waits for the whole bake. Read-only RBAC is enough (deploy/in-cluster/).

Verdicts: advance (PR sets status.stage + 1), revert (PR sets status.stage - 1,
then a cool-down of spec.coolDown), hold (no PR: too little evidence, a requirement
unmet, cooling down, or the last stage).

Exit codes: 0 advance or hold, 1 revert, 2 usage or config error, 3 git, GitHub or
cluster failure. GitHub: GITHUB_TOKEN or GH_TOKEN, or GITHUB_APP_ID +
GITHUB_APP_PRIVATE_KEY + GITHUB_APP_INSTALLATION_ID; GITHUB_REPOSITORY=owner/name
(else read from the remote); GITHUB_API_URL for GitHub Enterprise Server.

Examples:
  $ meshdrill rollout gate examples/shop --forge local
  $ meshdrill rollout gate . --context in-cluster --prometheus http://prometheus.monitoring:9090`,
    )
    .action(async (repo: string, options: { plan?: string; cluster?: string; context?: string; kubeconfig?: string; prometheus?: string; forge: 'auto' | 'local' | 'github'; remote: string; out?: string; seed: string; waitForMerge?: string; waitForSync?: string; dryRun?: boolean }) => {
      const globals = program.opts<GlobalOptions>();
      const { rolloutGateCommand } = await commands.rollout();
      setExit(await rolloutGateCommand(repo, { ...options, dryRun: options.dryRun === true, output: globals.output, logLevel: globals.logLevel as LogLevel }, io));
    });

  const gameday = program.command('gameday').description('Game days: mesh stages, faults and steady-state hypotheses on the embedded cluster');
  gameday
    .command('run')
    .description('Run a game day: provision, install the mesh, deploy the topology, run its steps with faults, judge its hypotheses')
    .argument('<file|repo>', 'a GameDay file, or a config repo directory holding one')
    .option('--name <name>', 'the game day, when there are several')
    .option('--out <dir>', 'where the run record goes (default .meshdrill/runs/<run id>)')
    .option('--journal-dir <dir>', 'where the undo journal goes; `meshdrill cleanup` replays it', '.meshdrill/journal')
    .option('--dry-run', 'run the steps but only print each fault\'s plan; inject nothing')
    .option('--kubeconfig <file>', 'run on an embedded cluster served by `meshdrill sim serve` instead of one in this process')
    .option('--keep', 'leave the cluster (kind, k3s) or, with --kubeconfig, the mesh and topology in place afterwards')
    .option('--reuse', 'kind: reuse the cluster made from the same Cluster document and mesh version, and keep it for the next run')
    .option('--context <name>', 'with --kubeconfig (or $KUBECONFIG): run on this existing cluster in real time; its mesh must be installed already')
    .option('--yes-really <context>', 'allow faults on an existing cluster\'s context that its Cluster document does not allow-list')
    .option('--prometheus <url>', 'on an existing cluster: the Prometheus that scrapes its mesh, for SLIs')
    .option('--traffic', 'on an existing cluster: drive the topology\'s entrypoints with k6 in the cluster (namespace meshdrill-load, at most 6 h) instead of relying on its own traffic')
    .addHelpText(
      'after',
      `
Every fault's plan (what it will change, in order) is printed before it goes in, and each
change's undo is written to the journal (fsync) before it is made. However the run ends —
a failed hypothesis, an abort condition, an error, Ctrl-C — faults are reverted newest first,
and the revert is checked: what the fault touched must be as before, and the steady state
must return. After kill -9, \`meshdrill cleanup\` replays the journal.

Exit codes: 0 every hypothesis held, 1 a hypothesis or assertion failed or an abort condition
fired, 2 usage or config error, 3 infrastructure error (or the cluster is held by another run),
130/143/129 interrupted by SIGINT/SIGTERM/SIGHUP (faults reverted, the run recorded as aborted).

A cluster that others can reach (a served sim, kind, an existing context) is leased to one run
at a time: a coordination.k8s.io Lease kube-system/meshdrill, renewed while the run lives. A
second run is refused at once, naming the holder; a lease nobody renewed for a minute (its run
was killed) is taken over with a warning.

Example:
  $ meshdrill gameday run examples/shop/gameday.yaml`,
    )
    .action(async (path: string, options: { name?: string; out?: string; journalDir: string; dryRun?: boolean; kubeconfig?: string; keep?: boolean; reuse?: boolean; traffic?: boolean; context?: string; yesReally?: string; prometheus?: string }) => {
      const globals = program.opts<GlobalOptions>();
      const { gameDayRunCommand, processInterrupts } = await commands.gameday();
      const interrupts = processInterrupts((text) => io.stderr(text));
      try {
        setExit(await gameDayRunCommand(path, { ...options, dryRun: options.dryRun === true, keep: options.keep === true, output: globals.output, logLevel: globals.logLevel as LogLevel }, io, interrupts));
      } finally {
        interrupts.dispose();
      }
    });
  program
    .command('suite')
    .description('Suites: ordered tests of mesh behaviour with try / catch / finally steps')
    .command('run')
    .description('Run a suite on the embedded cluster')
    .argument('<file|repo>', 'a Suite file, or a config repo directory holding one')
    .option('--name <name>', 'the suite, when there are several')
    .option('--out <dir>', 'where the run record goes (default .meshdrill/runs/<run id>)')
    .option('--journal-dir <dir>', 'where the undo journal goes', '.meshdrill/journal')
    .option('--kubeconfig <file>', 'run on an embedded cluster served by `meshdrill sim serve`')
    .option('--keep', 'with --kubeconfig: leave what the suite installed')
    .option('--fail-on-flaky', 'exit 1 when a step passed only after a retry')
    .addHelpText(
      'after',
      `
Each step runs its try operations in order; the first that fails runs the step's catch
operations, and finally operations always run. Timeouts are inherited suite → step →
operation. Infrastructure errors (connection refused, 5xx, a cluster that is not ready)
are retried twice, quietly, and recorded; failed checks are never retried. A step that
passed only after a retry is reported flaky, not passed.

Exit codes: 0 pass (or flaky), 1 a step failed (or flaky with --fail-on-flaky), 2 usage or
config error, 3 infrastructure error, 130/143 interrupted.`,
    )
    .action(async (path: string, options: { name?: string; out?: string; journalDir: string; kubeconfig?: string; keep?: boolean; failOnFlaky?: boolean }) => {
      const globals = program.opts<GlobalOptions>();
      const { gameDayRunCommand, processInterrupts } = await commands.gameday();
      const interrupts = processInterrupts((text) => io.stderr(text));
      try {
        setExit(await gameDayRunCommand(path, { ...options, kind: 'Suite', dryRun: false, keep: options.keep === true, failOnFlaky: options.failOnFlaky === true, output: globals.output, logLevel: globals.logLevel as LogLevel }, io, interrupts));
      } finally {
        interrupts.dispose();
      }
    });
  program
    .command('report')
    .description('Render a run record as HTML, Markdown, JUnit XML or JSON; or show trends across runs')
    .argument('<run.json|trend>', 'a run record, or `trend` followed by several')
    .argument('[more...]', 'with trend: the run records')
    .addOption(new Option('--format <format>', 'html: one self-contained page; md: for pull requests and $GITHUB_STEP_SUMMARY; junit: for CI test results').choices(['html', 'md', 'junit', 'json']).default('html'))
    .option('--out <file>', 'write here instead of stdout')
    .option('--html-url <url>', 'with --format md or --github-issue: link to the HTML report (e.g. a CI artifact)')
    .option('--github-issue', 'keep one GitHub issue for this game day or suite: a failing run opens or updates it, a passing run closes it (GITHUB_TOKEN, GITHUB_REPOSITORY)')
    .option('--run-url <url>', 'with --github-issue: link to the CI run in the issue\'s comments')
    .addHelpText('after', '\nExamples:\n  $ meshdrill report .meshdrill/runs/<id>/run.json --out report.html\n  $ meshdrill report run.json --format md >> "$GITHUB_STEP_SUMMARY"\n  $ meshdrill report run.json --format junit --out junit.xml\n  $ meshdrill report trend .meshdrill/runs/*/run.json\n  $ meshdrill report run.json --github-issue --run-url "$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID"')
    .action(async (first: string, more: string[], options: ReportOptions) => {
      const { reportCommand } = await commands.report();
      setExit(await reportCommand([first, ...more], options, io));
    });
  program
    .command('check')
    .description('What a change to a mesh config repo would break, before it merges: static rules, and with --base both trees run on the embedded cluster')
    .argument('<repo>', 'config repo directory')
    .option('--base <ref>', 'git ref to compare with (e.g. origin/main); without it only the static rules run')
    .option('--head <ref>', 'git ref to check (default: the working tree)')
    .addOption(new Option('--format <format>', 'md: a pull-request comment; junit: CI test results; sarif: SARIF 2.1.0 for code scanning').choices(['md', 'junit', 'sarif']))
    .option('--github-pr <number>', 'post a check run with annotations and one comment (kept up to date) on this pull request; needs GITHUB_TOKEN and GITHUB_REPOSITORY')
    .option('--kustomize <dir...>', 'kustomization directories to render and judge (default: every kustomization no other one includes)')
    .option('--prometheus <url>', 'for a repo without a Topology: the calls between its workloads as the mesh\'s telemetry in this Prometheus saw them')
    .option('--window <duration>', 'with --prometheus: how far back to look', '1h')
    .addHelpText('after', `
How the repo is read (as Argo CD and Flux apply it):
  - meshdrill's documents by apiVersion meshdrill.dev/*; YAML that is not a Kubernetes object
    (Helm values, CI files) is counted and ignored
  - kustomizations rendered with the kustomize inside kubectl (\`kubectl kustomize\`); each object
    is traced back to the file and line it came from; a file a kustomization includes is read
    only through it
  - Helm charts (a Chart.yaml) rendered with \`helm template\` when helm is on PATH (the chart's
    own values), else named and not judged; CheckConfig include/exclude globs pick files

Rules (id, default severity):
  MD101 strict-with-plaintext-callers  error    STRICT on a namespace with unmeshed callers
  MD102 retry-amplification            warning  retries multiplying along a call path
  MD103 strict-without-authorization   warning  STRICT with no AuthorizationPolicy
  MD104 stateful-meshed-without-opt-in warning  stateful namespace meshed without opt-in
  MD105 sidecar-scope-missing          info     many services and no Sidecar resource
  MD106 control-plane-injected         error    injection into the control plane
  MD107 egress-left-open               warning  meshed workloads may call any outside host
  MD108 stage-too-large                warning  a stage meshing more than the plan allows
  MD109 emergency-relaxation           warning  PERMISSIVE/DISABLE where the base was STRICT (--base)
  MD110 policy-matches-nothing         warning  selector, source namespace or principal nobody has  (KIA0004, KIA0101, KIA0106)
  MD111 routing-loop                   error    VirtualServices that route to each other
  MD112 access-widened                 warning  a call the base refused that the head allows (--base)
  MD113 reference-not-found            warning  missing host, subset or Gateway referenced  (IST0101, KIA0202, KIA1101, KIA1102, KIA1107)
  MD114 subset-matches-no-workload     warning  DestinationRule subset whose labels select no pod  (KIA0203)
  MD115 destination-rules-conflict     warning  two DestinationRules for one host in a namespace  (KIA0201)
  MD116 unreachable-route              warning  http route after a catch-all  (IST0131)
  MD117 port-name-convention           info     meshed Service port naming no protocol  (IST0118, KIA0601)
  MD201 call-broken-by-change          error    with --base: a call that worked fails (SARIF rule id)

Severities and thresholds per repo: a CheckConfig document (meshdrill schema CheckConfig), e.g.
  kind: CheckConfig
  spec:
    rules: { MD103: off, egress-left-open: error }
    failOn: warning        # warnings block too
With --base, the base's CheckConfig applies, so a change cannot switch off the rule it breaks.

Exit codes: 0 nothing blocking, 1 an error finding or a call the change breaks, 2 config error.

Example:
  $ meshdrill check . --base origin/main --head HEAD --format md > comment.md`)
    .action(async (repo: string, options: { base?: string; head?: string; format?: 'md' | 'junit' | 'sarif'; githubPr?: string; kustomize?: string[]; prometheus?: string; window: string }) => {
      const pr = options.githubPr === undefined ? undefined : Number(options.githubPr);
      if (pr !== undefined && (!Number.isInteger(pr) || pr < 1)) throw new ConfigError(`--github-pr: expected a pull request number; found "${options.githubPr}"`);
      const { githubPr: _pr, prometheus, window, ...rest } = options;
      if (prometheus !== undefined) Object.assign(rest, { prometheus: { url: prometheus, window } });
      const { checkCommand } = await commands.check();
      setExit(await checkCommand(repo, { ...rest, ...(pr !== undefined ? { github: { pr } } : {}), output: program.opts<GlobalOptions>().output }, io));
    });
  program
    .command('init')
    .description('Scaffold a mesh config repo: topology, rollout plan, SLOs, a game day, editor schemas and three GitHub workflows (check, game day, rollout gate)')
    .argument('[dir]', 'where to write it', '.')
    .option('--name <name>', 'the topology\'s name', 'shop')
    .addOption(new Option('--mesh <mesh>', 'the mesh the plan moves onto').choices(['istio', 'linkerd']).default('istio'))
    .option('--kubeconfig <file>', 'discover namespaces and workloads from this cluster')
    .option('--context <name>', 'the context to discover from')
    .option('--prometheus <url>', 'measure the call graph and its rates from the mesh\'s metrics in this Prometheus (istio_requests_total or Linkerd\'s request_total)')
    .option('--window <duration>', 'with --prometheus: how far back to measure', '1h')
    .option('--force', 'overwrite files that exist')
    .option('--action <ref>', 'the meshdrill action the workflows use, pinned (owner/repo@tag or @commit)', 'meshdrill/meshdrill@v1')
    .addHelpText('after', `
Telemetry sees what the mesh sees: calls made by meshed clients are named; requests from
unmeshed workloads or the outside arrive without an identity. A service only such callers
reach becomes an entrypoint; one reached both ways gets a NOTE in topology.yaml.

Examples:
  $ meshdrill init mesh-config
  $ meshdrill init mesh-config --kubeconfig ~/.kube/staging --context staging \\
      --prometheus http://localhost:9090 --window 6h`)
    .action(async (dir: string, options: { name: string; mesh: 'istio' | 'linkerd'; kubeconfig?: string; context?: string; prometheus?: string; window?: string; force?: boolean }) => {
      const { initCommand } = await commands.init();
      setExit(await initCommand(dir, { ...options, force: options.force === true }, io));
    });
  const slo = program.command('slo').description('The repo\'s SLO documents outside meshdrill: as Prometheus rules that alert on their error budgets');
  slo
    .command('rules')
    .description('Recording rules for each SLO\'s error ratio and multiwindow multi-burn-rate alerts (Google SRE workbook), as a Prometheus rule file or a PrometheusRule')
    .argument('<repo>', 'config repo directory (or a file of SLO documents)')
    .addOption(new Option('--mesh <mesh>', 'whose metrics the rules read (default: the rollout plan\'s mesh, else istio)').choices(['istio', 'linkerd']))
    .addOption(new Option('--mode <mode>', 'Istio data plane (default: the plan\'s)').choices(['sidecar', 'ambient']))
    .addOption(new Option('--format <format>', 'rules: a Prometheus rule file (promtool check rules); prometheusrule: a prometheus-operator PrometheusRule').choices(['rules', 'prometheusrule']).default('rules'))
    .option('--namespace <ns>', 'the PrometheusRule\'s namespace', 'monitoring')
    .option('--out <file>', 'write the rules to this file (default stdout)')
    .addHelpText('after', `
Which SLOs make rules: success-rate (">= 99.9%": the error budget is 0.1% of requests) and
latency percentiles ("<= 250ms" on latency-p99: at most 1% of requests slower than 250 ms; the
threshold must be a bucket boundary of the mesh's histogram). Others are named and skipped.

Alerts (labels severity and window): page when 2% of a 30-day budget burns in 1h (14.4×, over
1h and 5m) or 5% in 6h (6×, 6h and 30m); ticket at 3× over 1d and 2h, and 1× over 3d and 6h.

Example:
  $ meshdrill slo rules . --out slo-rules.yaml && promtool check rules slo-rules.yaml`)
    .action(async (repo: string, options: { mesh?: 'istio' | 'linkerd'; mode?: 'sidecar' | 'ambient'; format: 'rules' | 'prometheusrule'; namespace: string; out?: string }) => {
      const { sloRulesCommand } = await commands.slo();
      setExit(await sloRulesCommand(repo, options, io));
    });
  program
    .command('cronjob')
    .description('Manifests that run meshdrill in the cluster it judges: the rollout gate (read only) every half hour and, with --gameday, a game day of faults, each with the least RBAC its runs use')
    .argument('<repo>', 'config repo directory')
    .requiredOption('--image <ref>', 'the meshdrill image, built from the Dockerfile and pushed to your registry (by digest, ideally)')
    .requiredOption('--git-url <url>', 'the mesh config repo to clone (https; the token goes in the Secret, never the URL)')
    .requiredOption('--prometheus <url>', 'the Prometheus that scrapes the mesh, as the pods reach it')
    .option('--plan <name>', 'the rollout plan, when the repo has several')
    .option('--git-branch <branch>', 'the branch the GitOps engine applies', 'main')
    .option('--repo-dir <dir>', 'the config repo\'s directory inside the git repository', '.')
    .option('--namespace <ns>', 'where meshdrill\'s CronJobs, service accounts and ConfigMap go', 'meshdrill')
    .option('--schedule <cron>', 'when the rollout gate runs', '*/30 * * * *')
    .option('--gameday <name>', 'also run this GameDay (fault, assert and wait steps only) on its spec.schedule')
    .option('--out <file>', 'write the manifests to this file (default stdout)')
    .addHelpText('after', `
The gate's RBAC reads the topology's namespaces by name, their pods and the policy objects the
plan's stages render, nothing else: the GitOps engine applies what its pull requests propose. A
game day's RBAC adds the run lease in kube-system and, per fault, the objects it changes and puts
back. Each scope gets its own Role, so nothing is granted where it is not used.

Example:
  $ meshdrill cronjob . --image ghcr.io/acme/meshdrill@sha256:… \\
      --git-url https://github.com/acme/mesh-config.git --prometheus http://prometheus.monitoring:9090 \\
      --gameday weekly-mesh-resilience > deploy/meshdrill.yaml`)
    .action(async (repo: string, options: { plan?: string; image: string; gitUrl: string; gitBranch: string; repoDir: string; prometheus: string; namespace: string; schedule: string; gameday?: string; out?: string }) => {
      const { cronJobCommand } = await commands.cronjob();
      setExit(await cronJobCommand(repo, options, io));
    });
  const clusters = program.command('clusters').description('The kind clusters meshdrill made, and the runs that hold them');
  clusters
    .command('list')
    .description('Every kind cluster meshdrill made (named meshdrill-*): the run that made it, and whether that run is still alive')
    .action(async () => {
      const { defaultLeaseDir, listKindClusters } = await commands.kindClusters();
      const states = await listKindClusters({ leaseDir: defaultLeaseDir(io.env) });
      if (program.opts<GlobalOptions>().output === 'json') io.stdout(`${JSON.stringify(states, null, 2)}\n`);
      else if (states.length === 0) io.stdout('no meshdrill kind clusters\n');
      else for (const s of states) io.stdout(`${s.name}  ${s.inUse ? `in use by run ${s.lease!.runId} (pid ${s.lease!.pid} on ${s.lease!.host})` : s.lease ? `run ${s.lease.runId} has ended${s.lease.pid === null ? ' (kept)' : ''}; gc deletes it` : 'no lease; gc deletes it'}\n`);
      setExit(0);
    });
  clusters
    .command('gc')
    .description('Delete the kind clusters meshdrill made (named meshdrill-*) whose run has ended: kept with --keep or --reuse, or left by a killed run. Clusters a live run holds are left alone.')
    .option('--except <names...>', 'clusters to leave alone as well')
    .option('--dry-run', 'say which would be deleted; delete nothing')
    .addHelpText('after', '\nEach run leases its cluster in $XDG_STATE_HOME/meshdrill/kind (default ~/.local/state/meshdrill/kind): the run id and its process. A lease whose process is gone is a run that has ended.')
    .action(async (options: { except?: string[]; dryRun?: boolean }) => {
      const logger = createLogger({ level: program.opts<GlobalOptions>().logLevel as LogLevel, write: (line) => io.stderr(`${line}\n`) });
      const { collectKindClusters, defaultLeaseDir } = await commands.kindClusters();
      const { deleted, inUse } = await collectKindClusters({ except: new Set(options.except ?? []), dryRun: options.dryRun === true, logger, leaseDir: defaultLeaseDir(io.env) });
      io.stdout(`${deleted.length ? `${options.dryRun ? 'would delete' : 'deleted'}: ${deleted.join(', ')}` : 'no meshdrill kind clusters to delete'}${inUse.length ? `; in use by live runs: ${inUse.join(', ')}` : ''}\n`);
      setExit(0);
    });
  program
    .command('cleanup')
    .description('Replay the undo journal of runs that did not finish (a crash, kill -9), on the cluster each journal names and nowhere else')
    .option('--run-id <id>', 'only this run (default: every run with pending undos)')
    .option('--journal-dir <dir>', 'where the journals are', '.meshdrill/journal')
    .option('--kubeconfig <file>', 'reach the cluster through this kubeconfig (default: the one the run used, as its journal records)')
    .option('--context <name>', 'the context in --kubeconfig (needed when the file holds several)')
    .option('--dry-run', 'say what each undo would do; change nothing')
    .option('--include-kept', 'also take back what a run kept on purpose with --keep (its mesh and topology)')
    .option('--discard <run-id>', 'retire a journal whose cluster is gone: its undos will not be replayed')
    .addHelpText(
      'after',
      `
Every journal records the cluster its run changed: the API server, the CA and the uid of the
kube-system namespace (which survives renamed contexts and new addresses). cleanup reaches the
cluster through --kubeconfig/--context, or the kubeconfig path and context the journal records,
and refuses, changing nothing, when the uid differs: a journal never touches another cluster.
An undo deletes only objects that carry its run's meshdrill.dev/run-id label; anything else of
that name is reported and left alone. An undo that cannot be made stays pending: running
cleanup again is safe.

Exit codes: 0 done (or nothing to do), 2 usage, 3 a journal was refused or an undo failed.

Examples:
  $ meshdrill cleanup --dry-run
  $ meshdrill cleanup --kubeconfig ~/.kube/config --context staging
  $ meshdrill cleanup --discard gameday-20261201T101500-4f2a9c`,
    )
    .action(async (options: { runId?: string; journalDir: string; kubeconfig?: string; context?: string; dryRun?: boolean; includeKept?: boolean; discard?: string }) => {
      const { cleanupCommand } = await commands.gameday();
      setExit(await cleanupCommand({ ...options, logLevel: program.opts<GlobalOptions>().logLevel as LogLevel }, io));
    });

  const sim = program.command('sim').description('The embedded cluster: a Kubernetes API server with controllers, no Docker needed');
  sim
    .command('serve')
    .description('Serve the embedded cluster on loopback and write a kubeconfig for kubectl')
    .option('--port <n>', 'TCP port on 127.0.0.1 (0 picks a free one)', '0')
    .option('--nodes <n>', 'worker nodes', '3')
    .option('--state <file>', 'restore from and save to this snapshot file')
    .option('--kubeconfig <file>', 'where to write the kubeconfig', '.meshdrill/sim.kubeconfig')
    .addOption(new Option('--time <mode>', 'real: pods start on their own; virtual: time moves via POST /sim/v1/advance').choices(['real', 'virtual']).default('real'))
    .option('--seed <n>', 'seed for names and uids', '1')
    .addHelpText('after', '\nExample:\n  $ meshdrill sim serve --port 6443 --state sim.json &\n  $ KUBECONFIG=.meshdrill/sim.kubeconfig kubectl create deployment web --image=nginx --replicas=3\n  $ KUBECONFIG=.meshdrill/sim.kubeconfig kubectl rollout status deployment/web')
    .action(async (options: SimServeOptions) => {
      const { processSignals, simServeCommand } = await commands.sim();
      setExit(await simServeCommand(options, io, processSignals()));
    });

  return program;
}

function handleError(error: unknown, io: CliIO, debug: boolean): number {
  if (error instanceof CommanderError) {
    // Help and version requests end through the same path; they are not errors.
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
    return 2;
  }
  if (error instanceof MeshdrillError) {
    io.stderr(`meshdrill: ${error.message}\n`);
    if (debug && error.stack) io.stderr(`${error.stack}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.stderr(`meshdrill: unexpected error: ${message}\n`);
  if (debug && error instanceof Error && error.stack) io.stderr(`${error.stack}\n`);
  else io.stderr('run with --debug for the stack trace\n');
  return 3;
}
