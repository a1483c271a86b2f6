import type { KubeObject } from '../api/types.js';

// Traffic a proxy carries as plain TCP: no HTTP metrics, routes or retries, while mTLS and
// connection-level metrics and authorization still apply. Linkerd proxies a port as opaque when
// `config.linkerd.io/opaque-ports` names it (on the Service for clients, the pod or its namespace
// for servers), when a Server for it says proxyProtocol: opaque, or when it is one of Linkerd's
// defaults ("25 (SMTP), 587 (SMTP), 3306 (MySQL), 4444 (Galera), 5432 (Postgres), 6379 (Redis),
// 9300 (ElasticSearch), and 11211 (Memcache)": linkerd.io features/protocol-detection). A topology
// service with protocol tcp speaks no HTTP at all, on either mesh.

export const LINKERD_DEFAULT_OPAQUE_PORTS = [25, 587, 3306, 4444, 5432, 6379, 9300, 11211];
export const OPAQUE_PORTS_ANNOTATION = 'config.linkerd.io/opaque-ports';

/** The ports an opaque-ports annotation names ("4222,6222", ranges "4000-4100"); undefined when absent. */
export function parseOpaquePorts(value: string | undefined): Set<number> | undefined {
  if (value === undefined) return undefined;
  const out = new Set<number>();
  for (const part of value.split(',').map((p) => p.trim()).filter(Boolean)) {
    const range = /^(\d+)-(\d+)$/.exec(part);
    if (range) for (let p = Number(range[1]); p <= Number(range[2]) && p - Number(range[1]) < 65_536; p++) out.add(p);
    else if (/^\d+$/.test(part)) out.add(Number(part));
  }
  return out;
}

/**
 * Whether Linkerd carries this port of a service as opaque TCP: an annotation on the Service, the
 * server's pod template or its namespace replaces the defaults (the most specific one wins), and a
 * Server with proxyProtocol opaque for the port makes it opaque too.
 */
export function linkerdOpaque(port: number, where: { service?: KubeObject; pod?: KubeObject; namespace?: KubeObject; servers?: KubeObject[] }): boolean {
  const annotated = parseOpaquePorts(where.service?.metadata.annotations?.[OPAQUE_PORTS_ANNOTATION]) ?? parseOpaquePorts(where.pod?.metadata.annotations?.[OPAQUE_PORTS_ANNOTATION]) ?? parseOpaquePorts(where.namespace?.metadata.annotations?.[OPAQUE_PORTS_ANNOTATION]);
  if ((annotated ?? new Set(LINKERD_DEFAULT_OPAQUE_PORTS)).has(port)) return true;
  return (where.servers ?? []).some((s) => {
    const spec = (s.spec ?? {}) as Record<string, unknown>;
    return spec['proxyProtocol'] === 'opaque' && spec['port'] === port;
  });
}

/**
 * Istio's explicit protocol selection: a Service port named `<protocol>[-suffix]`, or with
 * appProtocol, of a protocol Istio proxies below HTTP (tcp, tls, https, mongo, mysql, redis) is
 * carried as TCP; other names (http, grpc, none at all) get HTTP, by name or by sniffing
 * (istio.io docs/ops/configuration/traffic-management/protocol-selection).
 */
export function istioTcpPort(service: KubeObject | undefined, port: number): boolean {
  const ports = ((service?.spec as { ports?: Array<{ port?: number; name?: string; appProtocol?: string }> } | undefined)?.ports ?? []);
  const p = ports.find((x) => x.port === port);
  if (!p) return false;
  const protocol = (p.appProtocol ?? p.name?.split('-')[0] ?? '').toLowerCase();
  return ['tcp', 'tls', 'https', 'mongo', 'mysql', 'redis'].includes(protocol);
}
