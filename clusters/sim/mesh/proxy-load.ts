import type { Proxy } from './twin.js';

/**
 * CPU a proxy spends per request it carries, in core-milliseconds:
 * - Envoy: 0.35 vCPU per 1,000 requests per second through the proxy (istio.io performance and
 *   scalability, summaries for Istio 1.12 to 1.16);
 * - ztunnel: 0.06 vCPU per 1,000 rps (istio.io performance and scalability, Istio 1.24 ambient);
 * - linkerd2-proxy: an order of magnitude less than Envoy (Linkerd's 2021 benchmarks of 2.10 and
 *   2.11 against Istio), taken here as a tenth.
 */
export const CPU_MS_PER_REQUEST: Record<Proxy['kind'], number> = { istio: 0.35, ambient: 0.06, linkerd: 0.035 };
/** Idle CPU: a proxy with no traffic still serves stats and health checks (a few millicores). */
const IDLE_CORES: Record<Proxy['kind'], number> = { istio: 0.004, ambient: 0.002, linkerd: 0.001 };
/** Envoy's sidecar concurrency (2 worker threads, Istio's default): more cores than that go unused. */
const WORKERS = 2;
/** Utilisation beyond which the queueing delay stops growing smoothly and requests start to fail. */
const SATURATED = 0.98;
/** The CFS quota period (100 ms): a throttled container waits up to this long for its next slice. */
const CFS_PERIOD_MS = 100;

/** What one proxy carried in the last tick and what that cost it. */
export interface ProxyCost {
  /** Requests per second through the proxy. */
  rps: number;
  /** CPU cores it wanted. */
  demand: number;
  /** CPU cores it got: the demand, capped by its limit. */
  used: number;
  /** Demand over what its limit (and its workers) allow; above 1 it cannot keep up. */
  utilisation: number;
}

/**
 * Requests per proxy, tick by tick, and the CPU they cost: the twin's proxy-cpu model. A proxy's
 * demand grows with the requests through it and, a little, with the services in its config; its
 * CPU limit (the sidecar's resources, from the injector's annotations) caps what it gets.
 */
export class ProxyLoad {
  private current = new Map<Proxy, number>();
  private last = new Map<Proxy, ProxyCost>();
  /** Moves when a tick ends with any proxy's utilisation (what delayMs and shed read) not as it was. */
  version = 0;

  /** `n` requests went through `proxy` this tick. */
  add(proxy: Proxy | undefined, n: number): void {
    if (!proxy || n <= 0) return;
    this.current.set(proxy, (this.current.get(proxy) ?? 0) + n);
  }

  /** Ends a tick: each proxy's rate and CPU, kept for the next tick's latency. */
  endTick(tickMs: number, proxies: Iterable<Proxy>, configServices: (proxy: Proxy) => number): Map<Proxy, ProxyCost> {
    const costs = new Map<Proxy, ProxyCost>();
    for (const proxy of proxies) {
      if (!proxy.started) continue;
      const rps = ((this.current.get(proxy) ?? 0) * 1000) / tickMs;
      const demand = IDLE_CORES[proxy.kind] + configServices(proxy) * 0.00001 + (rps * CPU_MS_PER_REQUEST[proxy.kind]) / 1000;
      const capacity = Math.min(proxy.cpuLimit ?? Number.POSITIVE_INFINITY, proxy.kind === 'istio' ? WORKERS : Number.POSITIVE_INFINITY);
      costs.set(proxy, { rps, demand, used: Math.min(demand, capacity), utilisation: Number.isFinite(capacity) ? demand / capacity : 0 });
    }
    let same = costs.size === this.last.size;
    for (const [proxy, cost] of costs) if (same && this.last.get(proxy)?.utilisation !== cost.utilisation) same = false;
    if (!same) this.version++;
    this.last = costs;
    this.current = new Map();
    return costs;
  }

  /**
   * Ends a tick that repeated the effects of the tick whose end made the last costs (tick-effects.ts):
   * the same requests through the same proxies cost the same, so the last costs stand.
   */
  repeatTick(): Map<Proxy, ProxyCost> {
    this.current = new Map();
    return this.last;
  }

  /**
   * What a request waits at a proxy short of CPU, from the last tick's utilisation ρ: an M/M/1
   * queue's mean wait, service time × ρ/(1−ρ), where the service time is the request's CPU over
   * the cores the limit allows; past saturation a throttled container waits for its next CFS slice.
   */
  delayMs(proxy: Proxy | undefined): number {
    const cost = proxy ? this.last.get(proxy) : undefined;
    if (!proxy || !cost || cost.utilisation <= 0) return 0;
    const service = CPU_MS_PER_REQUEST[proxy.kind] / Math.min(proxy.cpuLimit ?? WORKERS, WORKERS);
    const rho = Math.min(cost.utilisation, SATURATED);
    const wait = (service * rho) / (1 - rho);
    return cost.utilisation >= 1 ? wait + CFS_PERIOD_MS * (1 - 1 / cost.utilisation) : wait;
  }

  /** The share of a proxy's requests it cannot serve: what exceeds its capacity (they time out). */
  shed(proxy: Proxy | undefined): number {
    const cost = proxy ? this.last.get(proxy) : undefined;
    return cost && cost.utilisation > 1 ? 1 - 1 / cost.utilisation : 0;
  }
}
