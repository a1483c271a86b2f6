import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { ConfigError } from '../core/index.js';

// How a Prometheus behind auth is reached, as Flagger's MetricTemplate (secretRef with token or
// username/password) and Argo Rollouts' Prometheus provider (headers, insecure) do it: a bearer
// token (value, or a file read on every request so rotated tokens work), basic auth, extra
// headers, a custom CA or, when asked, no certificate check.

export interface PrometheusAuth {
  bearerToken?: string;
  /** Read on every request: Kubernetes rotates projected service-account tokens. */
  bearerTokenFile?: string;
  basic?: { username: string; password: string };
  headers?: Record<string, string>;
  /** PEM bundle of the CAs that sign the server's certificate. */
  caFile?: string;
  insecureSkipVerify?: boolean;
}

/** The environment meshdrill reads a Prometheus's auth from (values of a Kubernetes Secret, CI secrets). */
export const PROMETHEUS_ENV = {
  bearerToken: 'MESHDRILL_PROMETHEUS_BEARER_TOKEN',
  bearerTokenFile: 'MESHDRILL_PROMETHEUS_BEARER_TOKEN_FILE',
  username: 'MESHDRILL_PROMETHEUS_USERNAME',
  password: 'MESHDRILL_PROMETHEUS_PASSWORD',
  headers: 'MESHDRILL_PROMETHEUS_HEADERS',
  caFile: 'MESHDRILL_PROMETHEUS_CA_FILE',
  insecureSkipVerify: 'MESHDRILL_PROMETHEUS_INSECURE_SKIP_VERIFY',
} as const;

/**
 * The URL without credentials (fetch refuses `https://user:pass@host`), and the auth from the URL's
 * credentials and the environment. Headers are "Name: value" lines.
 */
export function prometheusTarget(rawUrl: string, env: NodeJS.ProcessEnv): { url: string; auth: PrometheusAuth; secrets: string[] } {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new ConfigError(`--prometheus: expected a URL like http://localhost:9090; found "${rawUrl.replace(/\/\/[^@/]*@/, '//…@')}"`);
  }
  const auth: PrometheusAuth = {};
  if (url.username || url.password) {
    auth.basic = { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
    url.username = '';
    url.password = '';
  }
  const username = env[PROMETHEUS_ENV.username];
  if (username) auth.basic = { username, password: env[PROMETHEUS_ENV.password] ?? '' };
  if (env[PROMETHEUS_ENV.bearerToken]) auth.bearerToken = env[PROMETHEUS_ENV.bearerToken]!;
  if (env[PROMETHEUS_ENV.bearerTokenFile]) auth.bearerTokenFile = env[PROMETHEUS_ENV.bearerTokenFile]!;
  if (auth.bearerToken && auth.basic) throw new ConfigError(`Prometheus auth: both a bearer token and basic auth are set; set one (${PROMETHEUS_ENV.bearerToken} or ${PROMETHEUS_ENV.username})`);
  const headers = env[PROMETHEUS_ENV.headers];
  if (headers) {
    auth.headers = {};
    for (const line of headers.split('\n').map((l) => l.trim()).filter(Boolean)) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw new ConfigError(`${PROMETHEUS_ENV.headers}: expected "Name: value" lines; found "${line.slice(0, 40)}"`);
      auth.headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
    }
  }
  if (env[PROMETHEUS_ENV.caFile]) auth.caFile = env[PROMETHEUS_ENV.caFile]!;
  if (env[PROMETHEUS_ENV.insecureSkipVerify] === 'true') auth.insecureSkipVerify = true;
  const secrets = [auth.bearerToken, auth.basic?.password, ...Object.values(auth.headers ?? {})].filter((s): s is string => typeof s === 'string' && s.length >= 6);
  return { url: url.toString().replace(/\/$/, ''), auth, secrets };
}

/** The request headers the auth adds. */
export function authHeaders(auth: PrometheusAuth | undefined): Record<string, string> {
  if (!auth) return {};
  const out: Record<string, string> = { ...(auth.headers ?? {}) };
  const token = auth.bearerTokenFile ? readToken(auth.bearerTokenFile) : auth.bearerToken;
  if (token) out['Authorization'] = `Bearer ${token}`;
  else if (auth.basic) out['Authorization'] = `Basic ${Buffer.from(`${auth.basic.username}:${auth.basic.password}`).toString('base64')}`;
  return out;
}

function readToken(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new ConfigError(`${PROMETHEUS_ENV.bearerTokenFile}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

/**
 * A fetch for HTTPS with a custom CA or without verification (Node's fetch takes neither): the
 * same request through node:https, answered as a Response.
 */
export function tlsFetch(auth: PrometheusAuth): typeof fetch {
  const ca = auth.caFile ? readFileSync(auth.caFile, 'utf8') : undefined;
  return ((input: string | URL, init?: RequestInit) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(String(input));
      const body = init?.body === undefined || init.body === null ? undefined : String(init.body);
      const req = httpsRequest(url, { method: init?.method ?? 'GET', headers: { ...(init?.headers as Record<string, string> | undefined), ...(body !== undefined ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}) }, ...(ca ? { ca } : {}), rejectUnauthorized: !auth.insecureSkipVerify }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 500, statusText: res.statusMessage ?? '' })));
        res.on('error', reject);
      });
      req.on('error', reject);
      init?.signal?.addEventListener('abort', () => req.destroy(Object.assign(new Error('aborted'), { name: 'TimeoutError' })));
      if (body !== undefined) req.write(body);
      req.end();
    })) as typeof fetch;
}
