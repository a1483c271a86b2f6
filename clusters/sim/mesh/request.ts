import { parsePercent, portOf, type TopologyRequestClass, type TopologyService } from '../../../model/index.js';

/** What a policy or a route can see of a request (one class of requests on an edge). */
export interface RequestAttributes {
  method: string;
  path: string;
  /** The Host/:authority the client sends: the callee's cluster FQDN and port. */
  host: string;
  /** Destination port (the Service's port, the same as the container's here). */
  port: number;
  /** The port's name on the Service and container. */
  portName: string;
  /** Header names in lower case. */
  headers: Record<string, string>;
  /** Carried as plain TCP (a tcp service, a Linkerd opaque port): no HTTP attribute is seen. */
  opaque?: boolean;
}

/** One class of an edge's requests and its share of them. */
export interface RequestClassShare {
  /** Stable within a traffic model: part of cache keys. */
  id: string;
  request: RequestAttributes;
  share: number;
}

/**
 * An edge's request mix as the traffic model runs it: each class with its share (shares that do
 * not add up to 1 are normalised; validation reports them). Default: one class, GET / on the port.
 */
export function requestClasses(namespace: string, service: Pick<TopologyService, 'name' | 'ports' | 'protocol'>, port: number | string | undefined, classes: TopologyRequestClass[] | undefined): RequestClassShare[] {
  const target = portOf(service, port) ?? portOf(service, undefined)!;
  const given = classes ?? [{ method: 'GET', path: '/', headers: {}, share: '100%' }];
  const shares = given.map((c) => (parsePercent(c.share) ?? 100) / 100);
  const total = shares.reduce((a, b) => a + b, 0) || 1;
  return given.map((c, i) => ({
    id: `${target.port}:${c.method} ${c.path}${Object.keys(c.headers).length ? ` ${JSON.stringify(c.headers)}` : ''}`,
    request: {
      method: c.method,
      path: c.path,
      host: `${service.name}.${namespace}.svc.cluster.local:${target.port}`,
      port: target.port,
      portName: target.name,
      headers: Object.fromEntries(Object.entries(c.headers).map(([k, v]) => [k.toLowerCase(), v])),
    },
    share: shares[i]! / total,
  }));
}
