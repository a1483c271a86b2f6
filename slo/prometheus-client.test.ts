import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { PrometheusClient } from './prometheus-client.js';
import { prometheusBinary, startPrometheus } from '../test/helpers/prometheus.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** A local HTTP server answering like Prometheus, with a scripted sequence of responses. */
async function serve(responses: Array<[number, unknown]>): Promise<{ url: string; calls: () => number }> {
  let calls = 0;
  server = createServer((_req, res) => {
    const [status, body] = responses[Math.min(calls++, responses.length - 1)]!;
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, calls: () => calls };
}

const noSleep = async () => undefined;

describe('slo/prometheus-client', () => {
  it('retries on 5xx and returns the vector', async () => {
    const prom = await serve([
      [503, { status: 'error', error: 'busy' }],
      [200, { status: 'success', data: { resultType: 'vector', result: [{ metric: { a: '1' }, value: [1, '42.5'] }] } }],
    ]);
    const client = new PrometheusClient({ url: prom.url, sleep: noSleep });

    expect(await client.query('up')).toEqual([{ metric: { a: '1' }, value: 42.5 }]);
    expect(prom.calls()).toBe(2);
  });

  it('gives up after its retries with the last error', async () => {
    const prom = await serve([[500, { status: 'error', error: 'internal' }]]);
    const client = new PrometheusClient({ url: prom.url, retries: 1, sleep: noSleep });

    await expect(client.query('up')).rejects.toThrow(`Prometheus at ${prom.url}: 500 internal`);
  });

  it('names a refused connection', async () => {
    const { url } = await serve([[200, {}]]);
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    const client = new PrometheusClient({ url, retries: 0, sleep: noSleep });

    await expect(client.query('up')).rejects.toThrow(new RegExp(`Prometheus at ${url}: .*ECONNREFUSED`));
  });

  it('times out', async () => {
    server = createServer(() => undefined);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
    const client = new PrometheusClient({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, retries: 0, timeoutMs: 100, sleep: noSleep });

    await expect(client.query('up')).rejects.toThrow('timed out after 100 ms');
    server.closeAllConnections();
  });

  it.skipIf(!prometheusBinary())('passes on the real Prometheus\'s error text for bad PromQL', async () => {
    const prometheus = await startPrometheus(prometheusBinary()!, '127.0.0.1:9');
    try {
      const client = new PrometheusClient({ url: prometheus.url, sleep: noSleep });

      await expect(client.query('sum(rate(x[5m])')).rejects.toThrow(/^Prometheus rejected the query: bad_data: .*parse error.*unclosed left parenthesis/);
      expect(await client.query('vector(1) unless vector(0)')).toEqual([]);
    } finally {
      await prometheus.stop();
    }
  });
});
