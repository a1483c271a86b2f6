import type { Topology } from '../../model/index.js';
import type { TimerHandle } from '../../core/index.js';
import type { KubeObject } from '../kube/types.js';
import { istioRemoteSecret } from '../kind/connect.js';
import { multiclusterSubnets } from '../kind/subnets.js';
import { startSimCluster, type SimCluster } from './cluster.js';
import { VirtualClock } from './clock.js';
import { attachMeshTwin } from './mesh/attach.js';
import { TrafficModel } from './mesh/traffic.js';
import type { MeshTwin } from './mesh/twin.js';

/** One cluster of an embedded fleet. */
export interface SimFleetMember {
  name: string;
  region: string;
  cluster: SimCluster;
  twin: MeshTwin;
}

export interface SimFleetOptions {
  clusters: Array<{ name: string; region: string }>;
  seed?: number;
  /** Worker nodes per cluster. Default 3. */
  nodes?: number;
}

/**
 * Several embedded clusters on one virtual clock, one flat network between them (each its own pod
 * range, as the kind fleet lays them out), their nodes labelled with their regions. Their istiods
 * find each other through remote secrets, as on real clusters (`remoteSecret`); traffic crosses
 * clusters once a topology's traffic runs on the fleet (`startTraffic`).
 */
export class SimFleet {
  private traffic?: FleetTraffic;

  private constructor(
    readonly members: SimFleetMember[],
    readonly clock: VirtualClock,
  ) {}

  static async start(options: SimFleetOptions): Promise<SimFleet> {
    if (options.clusters.length < 2) throw new Error(`a fleet needs two clusters or more; got ${options.clusters.length}`);
    const clock = new VirtualClock();
    const members: SimFleetMember[] = [];
    try {
      for (const [i, { name, region }] of options.clusters.entries()) {
        // Seeds differ per member: object uids must not repeat across the fleet.
        const cluster = await startSimCluster({ name, nodes: options.nodes ?? 3, seed: (options.seed ?? 1) * 1_000 + i, fleet: { clock, region, podSubnet: multiclusterSubnets(i).podSubnet } });
        members.push({ name, region, cluster, twin: attachMeshTwin(cluster) });
      }
    } catch (error) {
      for (const m of members) await m.cluster.close();
      throw error;
    }
    const byServer = new Map(members.map((m) => [m.cluster.url, m.twin]));
    for (const m of members) m.twin.joinFleet((server) => byServer.get(server));
    return new SimFleet(members, clock);
  }

  member(name: string): SimFleetMember {
    const found = this.members.find((m) => m.name === name);
    if (!found) throw new Error(`no cluster ${name} in the fleet (${this.members.map((m) => m.name).join(', ')})`);
    return found;
  }

  /** The remote secret that lets the other members' istiods read `name`'s API server (istioctl create-remote-secret's shape). */
  remoteSecret(name: string): KubeObject {
    return istioRemoteSecret(name, this.member(name).cluster.kubeconfig);
  }

  /** Moves the fleet's time; every member's controllers settle after each timer. */
  async advance(ms: number): Promise<void> {
    for (const m of this.members) m.cluster.settle();
    await this.clock.advance(ms);
    for (const m of this.members) m.cluster.settle();
  }

  /**
   * Runs a topology deployed in every member: the entrypoints' load split across the clusters by
   * `entryShares` (a global load balancer's weights; default all into the first), calls between
   * clusters taking `crossClusterMs` more each way round.
   */
  startTraffic(topology: Topology, options: { tickMs?: number; crossClusterMs: number; entryShares?: Record<string, number> }): FleetTraffic {
    this.traffic?.stop();
    const tickMs = options.tickMs ?? 5_000;
    const models = this.members.map((m) => new TrafficModel(m.twin, topology, { tickMs }));
    models.forEach((model, i) => {
      const name = this.members[i]!.name;
      const share = options.entryShares ? (options.entryShares[name] ?? 0) : i === 0 ? 1 : 0;
      model.joinFleet({ name, peers: models.filter((m) => m !== model), crossClusterMs: options.crossClusterMs, entryShare: share });
    });
    this.traffic = new FleetTraffic(models, this.clock, tickMs);
    this.traffic.start();
    return this.traffic;
  }

  stopTraffic(): void {
    this.traffic?.stop();
    this.traffic = undefined;
  }

  async close(): Promise<void> {
    this.stopTraffic();
    for (const m of this.members) await m.cluster.close();
  }
}

/**
 * One tick of traffic across a fleet: every member's requests reach a service before any member's
 * service calls on, so what a pod in one cluster served for a caller in another makes its own
 * calls from where it runs, in the same tick.
 */
export class FleetTraffic {
  private timer?: TimerHandle;

  constructor(
    readonly models: TrafficModel[],
    private readonly clock: VirtualClock,
    private readonly tickMs: number,
  ) {}

  start(): void {
    const tick = () => {
      this.tick();
      this.timer = this.clock.setTimer(this.tickMs, tick);
    };
    this.timer = this.clock.setTimer(this.tickMs, tick);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  tick(): void {
    for (const m of this.models) m.beginTick();
    for (const ref of this.models[0]!.serviceOrder) {
      for (const m of this.models) m.serve(ref);
      for (const m of this.models) m.callOn(ref);
    }
    for (const m of this.models) m.endTick();
  }

  setRpsScale(scale: number): void {
    for (const m of this.models) m.setRpsScale(scale);
  }
}
