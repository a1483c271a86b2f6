import { parse, stringify } from 'yaml';
import { ClusterError, type Logger } from '../../core/index.js';
import { exec, type ExecResult } from '../exec.js';
import type { KubeClient, KubeObject } from '../kube/types.js';

type Run = (binary: string, args: string[]) => Promise<ExecResult>;

/** One cluster of a kind fleet, as connecting it needs it. */
export interface FleetMember {
  /** The kind cluster's name; its nodes are containers named `<name>-control-plane`, `<name>-worker`, … */
  name: string;
  kube: KubeClient;
  /** The service range the cluster was made with (multiclusterSubnets). */
  serviceSubnet: string;
}

interface FleetNode {
  name: string;
  ip: string;
  podCidr: string;
  controlPlane: boolean;
}

async function nodesOf(member: FleetMember): Promise<FleetNode[]> {
  const nodes = await member.kube.list('v1', 'Node');
  return nodes.map((n) => {
    const status = (n['status'] ?? {}) as { addresses?: Array<{ type: string; address: string }> };
    const spec = (n['spec'] ?? {}) as { podCIDR?: string };
    const ip = status.addresses?.find((a) => a.type === 'InternalIP')?.address;
    if (!ip || !spec.podCIDR) throw new ClusterError(`node ${n.metadata.name} of kind cluster ${member.name} has no InternalIP or podCIDR yet; is the cluster ready?`);
    return { name: n.metadata.name, ip, podCidr: spec.podCIDR, controlPlane: n.metadata.name.endsWith('-control-plane') };
  });
}

/**
 * Flat pod and service connectivity between kind clusters on the one `kind` docker network, as
 * Istio's CI sets it up for same-network multicluster (istio/istio prow/lib.sh
 * `connect_kind_clusters`; mesh-facts §3.3): on every node of each cluster, a route to every other
 * cluster's node pod ranges via that node, and to its service range via its control plane. Istio's
 * script handles one node per cluster; this does every node. `ip route replace` keeps it idempotent.
 */
export async function connectKindClusters(members: FleetMember[], options: { run?: Run; logger: Pick<Logger, 'info'> }): Promise<string[]> {
  const run: Run = options.run ?? ((binary, args) => exec(binary, args));
  const nodes = new Map<string, FleetNode[]>();
  for (const m of members) nodes.set(m.name, await nodesOf(m));
  const routes: string[] = [];
  for (const from of members) {
    for (const to of members) {
      if (from === to) continue;
      const remote = nodes.get(to.name)!;
      const controlPlane = remote.find((n) => n.controlPlane) ?? remote[0]!;
      const wanted = [...remote.map((n) => ({ cidr: n.podCidr, via: n.ip })), { cidr: to.serviceSubnet, via: controlPlane.ip }];
      for (const node of nodes.get(from.name)!) {
        for (const r of wanted) {
          const result = await run('docker', ['exec', node.name, 'ip', 'route', 'replace', r.cidr, 'via', r.via]);
          if (result.code !== 0) throw new ClusterError(`adding a route on ${node.name} to ${r.cidr} via ${r.via} failed: ${result.stderr.trim()}`);
          routes.push(`${node.name}: ${r.cidr} via ${r.via}`);
        }
      }
    }
  }
  options.logger.info({ routes: routes.length }, `connected ${members.length} kind clusters: ${routes.length} routes`);
  return routes;
}

/**
 * A cluster's kubeconfig as other clusters' istiod reach it: `kind get kubeconfig --internal` names
 * the control-plane container, which is rewritten to its address on the kind network, as Istio's
 * CI does (mesh-facts §3.3).
 */
export async function internalKubeconfig(member: FleetMember, options: { run?: Run } = {}): Promise<string> {
  const run: Run = options.run ?? ((binary, args) => exec(binary, args));
  const result = await run('kind', ['get', 'kubeconfig', '--internal', '--name', member.name]);
  if (result.code !== 0) throw new ClusterError(`kind get kubeconfig --internal --name ${member.name} failed: ${result.stderr.trim()}`);
  const controlPlane = (await nodesOf(member)).find((n) => n.controlPlane);
  if (!controlPlane) throw new ClusterError(`kind cluster ${member.name} has no control-plane node`);
  return result.stdout.replaceAll(`${member.name}-control-plane`, controlPlane.ip);
}

/**
 * The secret by which one cluster's istiod discovers another's endpoints: what `istioctl
 * create-remote-secret` writes — `istio-remote-secret-<cluster>` in istio-system, labelled
 * `istio/multiCluster: "true"` (istiod watches that label), annotated with the cluster's name, the
 * kubeconfig under the cluster's name.
 */
export function istioRemoteSecret(cluster: string, kubeconfig: string): KubeObject {
  const config = parse(kubeconfig) as Record<string, unknown> | null;
  if (!config || !Array.isArray(config['clusters'])) throw new ClusterError(`the kubeconfig of ${cluster} has no clusters`);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `istio-remote-secret-${cluster}`, namespace: 'istio-system', labels: { 'istio/multiCluster': 'true' }, annotations: { 'networking.istio.io/cluster': cluster } },
    type: 'Opaque',
    stringData: { [cluster]: stringify(config) },
  };
}

/** Every cluster's istiod learns every other cluster: multi-primary on one network. */
export async function linkIstioClusters(members: FleetMember[], options: { run?: Run; logger: Pick<Logger, 'info'> }): Promise<void> {
  const secrets = new Map<string, KubeObject>();
  for (const m of members) secrets.set(m.name, istioRemoteSecret(m.name, await internalKubeconfig(m, options)));
  for (const from of members) for (const to of members) if (from !== to) await from.kube.apply(secrets.get(to.name)!);
  options.logger.info({ clusters: members.length }, `linked ${members.length} Istio control planes with remote secrets`);
}
