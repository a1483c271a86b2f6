import { chmod, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** What a fake tool does for an invocation whose arguments start with a given prefix. */
export interface FakeResponse {
  code?: number;
  stdout?: string;
  stderr?: string;
  /** Writes `content` to the path following this flag (kind writes its kubeconfig there). */
  writeFileAfterFlag?: { flag: string; content: string };
  /** Stays running after printing, until killed (kubectl port-forward). */
  hold?: boolean;
}

/**
 * Writes fake executables to a temp dir: each records its arguments (one JSON line per call) and
 * answers from a script of responses keyed by argument prefix; a list is used one per call, the
 * last repeated. Returns the PATH to put first and a reader of the recorded calls.
 */
export async function fakeTools(tools: Record<string, Record<string, FakeResponse | FakeResponse[]>>): Promise<{ path: string; dir: string; calls(tool: string): Promise<string[][]> }> {
  const dir = await mkdtemp(join(tmpdir(), 'meshdrill-fake-tools-'));
  const bin = join(dir, 'bin');
  await mkdir(bin);
  for (const [tool, responses] of Object.entries(tools)) {
    await writeFile(join(dir, `${tool}.responses.json`), JSON.stringify(responses));
    const script = `#!/usr/bin/env node
const fs = require('node:fs');
const args = process.argv.slice(2);
const dir = ${JSON.stringify(dir)};
fs.appendFileSync(dir + '/${tool}.calls.jsonl', JSON.stringify(args) + '\\n');
const responses = JSON.parse(fs.readFileSync(dir + '/${tool}.responses.json', 'utf8'));
const key = Object.keys(responses).sort((a, b) => b.length - a.length).find((k) => (args.join(' ') + ' ').startsWith(k + ' ') || args.join(' ') === k);
if (key === undefined) { process.stderr.write('fake ${tool}: no response for: ' + args.join(' ') + '\\n'); process.exit(2); }
let response = responses[key];
if (Array.isArray(response)) {
  const counter = dir + '/${tool}.' + Buffer.from(key).toString('hex') + '.count';
  const n = fs.existsSync(counter) ? Number(fs.readFileSync(counter, 'utf8')) : 0;
  fs.writeFileSync(counter, String(n + 1));
  response = response[Math.min(n, response.length - 1)];
}
if (response.writeFileAfterFlag) {
  const i = args.indexOf(response.writeFileAfterFlag.flag);
  if (i >= 0) fs.writeFileSync(args[i + 1], response.writeFileAfterFlag.content);
}
process.stdout.write(response.stdout || '');
process.stderr.write(response.stderr || '');
if (response.hold) setInterval(() => {}, 1000);
else process.exit(response.code || 0);
`;
    await writeFile(join(bin, tool), script);
    await chmod(join(bin, tool), 0o755);
  }
  return {
    dir,
    path: `${bin}${delimiter}${process.env['PATH'] ?? ''}`,
    async calls(tool) {
      const text = await readFile(join(dir, `${tool}.calls.jsonl`), 'utf8').catch(() => '');
      return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as string[]);
    },
  };
}

/**
 * Fake kind, helm and kubectl for a real cluster whose nodes are the embedded cluster: `kind create
 * cluster` writes the embedded cluster's kubeconfig, helm "installs" (what kind v0.30.0 and helm
 * v3.16 print), and `kubectl port-forward` points at `prometheusPort`.
 */
export function kindOnEmbedded(kubeconfig: string, options: { clusterName?: string; prometheusPort?: number } = {}): Record<string, Record<string, FakeResponse | FakeResponse[]>> {
  const name = options.clusterName ?? 'meshdrill-run';
  return {
    kind: {
      version: { stdout: 'kind v0.30.0 go1.24.6 linux/amd64\n' },
      'get clusters': { stdout: 'No kind clusters found.\n' },
      'create cluster': { stderr: `Creating cluster "${name}" ...\n ✓ Ensuring node image (kindest/node:v1.34.0) 🖼\n`, writeFileAfterFlag: { flag: '--kubeconfig', content: kubeconfig } },
      'export logs': { stdout: `Exported logs for cluster "${name}" to:\n/tmp/x\n` },
      'delete cluster': { stderr: `Deleting cluster "${name}" ...\n` },
    },
    kubectl: { 'port-forward': { stdout: `Forwarding from 127.0.0.1:${options.prometheusPort ?? 39090} -> 9090\n`, hold: true } },
    helm: { 'version --short': { stdout: 'v3.16.2+g13654a5\n' }, 'repo add': { stdout: '"istio" has been added to your repositories\n' }, 'upgrade --install': { stdout: 'STATUS: deployed\n' } },
  };
}
