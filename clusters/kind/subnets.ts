/**
 * Distinct pod and service ranges per cluster, as Istio's multicluster topologies use them
 * (prow/config/topology/multicluster.json; mesh-facts §3.3): clusters on the one kind network
 * must not overlap.
 */
export function multiclusterSubnets(index: number): { podSubnet: string; serviceSubnet: string } {
  if (index < 0 || index > 24) throw new Error(`cluster index ${index}: meshdrill lays out at most 25 clusters`);
  return { podSubnet: `10.${10 * (index + 1)}.0.0/16`, serviceSubnet: `10.255.${10 * (index + 1)}.0/24` };
}
