import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PrometheusClient } from '../slo/prometheus-client.js';
import { prometheusTarget } from '../slo/prometheus-auth.js';
import { prometheusBinary, startPrometheus, type RunningPrometheus } from './helpers/prometheus.js';

// A Prometheus behind auth, reached as the ecosystem reaches one: the real Prometheus with TLS
// under a private CA and basic auth (its web config), and a bearer-token endpoint whose token
// file rotates.
const binary = prometheusBinary();
const openssl = spawnSync('openssl', ['version']).status === 0;
// Prometheus's web config takes bcrypt hashes; Python's crypt makes them where libcrypt can.
const bcrypt = (password: string): string | undefined => {
  const r = spawnSync('python3', ['-W', 'ignore', '-c', `import crypt; print(crypt.crypt(${JSON.stringify(password)}, crypt.mksalt(crypt.METHOD_BLOWFISH)))`], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.startsWith('$2') ? r.stdout.trim() : undefined;
};
const hash = bcrypt('correct-horse');

describe.skipIf(!binary || !openssl || !hash)('Prometheus with TLS under a private CA and basic auth (the real one)', () => {
  let prometheus: RunningPrometheus;
  let ca: string;

  afterAll(async () => {
    await prometheus?.stop();
  });

  it('queries with the CA and the URL\'s credentials; names what is missing without them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-prom-tls-'));
    ca = join(dir, 'ca.crt');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=meshdrill test CA', '-keyout', join(dir, 'ca.key'), '-out', ca], { stdio: 'ignore' });
    execFileSync('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', join(dir, 'server.key'), '-out', join(dir, 'server.csr')], { stdio: 'ignore' });
    await writeFile(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    execFileSync('openssl', ['x509', '-req', '-in', join(dir, 'server.csr'), '-CA', ca, '-CAkey', join(dir, 'ca.key'), '-CAcreateserial', '-days', '1', '-extfile', join(dir, 'san.ext'), '-out', join(dir, 'server.crt')], { stdio: 'ignore' });
    const web = `tls_server_config:\n  cert_file: ${join(dir, 'server.crt')}\n  key_file: ${join(dir, 'server.key')}\nbasic_auth_users:\n  meshdrill: '${hash}'\n`;
    prometheus = await startPrometheus(binary!, '127.0.0.1:9', {
      web,
      https: true,
      ready: async (url) => {
        const { url: bare, auth } = prometheusTarget(url.replace('https://', 'https://meshdrill:correct-horse@'), { MESHDRILL_PROMETHEUS_CA_FILE: ca });
        return (await new PrometheusClient({ url: bare, auth, retries: 0 }).query('vector(1)').catch(() => [])).length === 1;
      },
    });
    const withCredentials = prometheusTarget(prometheus.url.replace('https://', 'https://meshdrill:correct-horse@'), { MESHDRILL_PROMETHEUS_CA_FILE: ca });
    const withoutPassword = prometheusTarget(prometheus.url, { MESHDRILL_PROMETHEUS_CA_FILE: ca });
    const withoutCa = prometheusTarget(prometheus.url, { MESHDRILL_PROMETHEUS_USERNAME: 'meshdrill', MESHDRILL_PROMETHEUS_PASSWORD: 'correct-horse' });

    const answer = await new PrometheusClient({ url: withCredentials.url, auth: withCredentials.auth, retries: 0 }).query('vector(42)');
    const refused = await new PrometheusClient({ url: withoutPassword.url, auth: withoutPassword.auth, retries: 0 }).query('vector(1)').catch((e: Error) => e.message);
    const untrusted = await new PrometheusClient({ url: withoutCa.url, auth: withoutCa.auth, retries: 0 }).query('vector(1)').catch((e: Error) => e.message);

    expect(answer).toEqual([{ metric: {}, value: 42 }]);
    expect(withCredentials.url).not.toContain('correct-horse');
    expect(withCredentials.secrets).toContain('correct-horse');
    expect(refused).toMatch(/refused the credentials \(401\): set a bearer token .* or basic auth/);
    expect(untrusted).toMatch(/certificate/i);
    expect(untrusted).not.toContain('correct-horse');
  });
});

describe('Prometheus behind a bearer token', () => {
  let server: Server;
  afterAll(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('sends the token, re-reads a token file on every request, and sends extra headers', async () => {
    const seen: Array<{ authorization?: string; tenant?: string }> = [];
    server = createServer((req, res) => {
      seen.push({ authorization: req.headers['authorization'], tenant: req.headers['x-scope-orgid'] as string | undefined });
      const ok = req.headers['authorization']?.startsWith('Bearer token-');
      res.writeHead(ok ? 200 : 401, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(ok ? { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [0, '1'] }] } } : { status: 'error', error: 'unauthorized' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-prom-token-'));
    const file = join(dir, 'token');
    await writeFile(file, 'token-one\n');
    const target = prometheusTarget(url, { MESHDRILL_PROMETHEUS_BEARER_TOKEN_FILE: file, MESHDRILL_PROMETHEUS_HEADERS: 'X-Scope-OrgID: platform' });
    const client = new PrometheusClient({ url: target.url, auth: target.auth, retries: 0 });

    await client.query('up');
    await writeFile(file, 'token-two\n');
    await client.query('up');

    expect(seen).toEqual([
      { authorization: 'Bearer token-one', tenant: 'platform' },
      { authorization: 'Bearer token-two', tenant: 'platform' },
    ]);
    expect(() => prometheusTarget(url, { MESHDRILL_PROMETHEUS_BEARER_TOKEN: 'abcdefgh', MESHDRILL_PROMETHEUS_USERNAME: 'u' })).toThrow(/both a bearer token and basic auth/);
  });
});
