import { didYouMean } from '../core/index.js';
import type { KubeObject } from '../clusters/index.js';
import { istioCacerts, linkerdIdentity, type MeshAdapter } from '../meshes/index.js';
import { parseDuration, parsePercent } from '../model/index.js';
import type { Scope } from '../slo/index.js';
import { RUN_ID_LABEL, type Change, type ObjectRef } from './changes.js';
import type { FaultSpec } from './schema.js';
import { planTelemetryDrop, planZonePartition } from './network-faults.js';
import { planProxyResourceFault } from './proxy-faults.js';
import { planCircuitBreaker, planMtlsRelaxation, planRoutingLoop } from './route-faults.js';

export type { FaultContext, FaultPlan, Probe } from './fault-types.js';
import type { FaultContext, FaultPlan } from './fault-types.js';

const DEPLOYMENT = (namespace: string, name: string): ObjectRef => ({ apiVersion: 'apps/v1', kind: 'Deployment', namespace, name });

function component(adapter: MeshAdapter, role: 'ca' | 'config' | 'injector'): string {
  const found = adapter.controlPlane.components.find((c) => c.role === role || c.role === 'ca+config' || (role === 'injector' && adapter.name === 'istio'));
  if (!found) throw new Error(`${adapter.name} has no ${role} component`);
  return found.name;
}

const labelled = (object: KubeObject, runId: string): KubeObject => ({ ...object, metadata: { ...object.metadata, labels: { ...(object.metadata.labels ?? {}), [RUN_ID_LABEL]: runId } } });

/**
 * Plans a fault: the changes it will make, in order, and what to watch. Reads the cluster but
 * changes nothing. Order matters: a fault writes its own mesh objects before it cuts the control
 * plane (Istio's validating webhook rejects mesh config while istiod is unreachable), and undoes
 * in reverse, so reachability comes back before anything is written. No revert restarts proxies.
 */
export async function planFault(spec: FaultSpec, ctx: FaultContext): Promise<FaultPlan> {
  const { adapter } = ctx;
  const cp = adapter.controlPlane.namespace;
  const name = spec.name ?? spec.type;
  const meshWide: Scope = {};
  switch (spec.type) {
    case 'ca-loss': {
      const notes: string[] = [];
      let changes: Change[];
      if (spec.variant === 'signer-unavailable') {
        const signer = component(adapter, 'ca');
        changes = [{ type: 'scale', ref: DEPLOYMENT(cp, signer), replicas: 0, why: 'the CA stops signing' }];
        if (adapter.name === 'istio') notes.push('Istio signs certificates and serves xDS from the same istiod port (15012): losing the signer also freezes config (mesh-facts §1.6).');
      } else if (spec.variant === 'root-replaced') {
        if (adapter.name === 'istio') {
          const { files } = await istioCacerts({ now: ctx.now });
          changes = [{ type: 'apply', object: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cacerts', namespace: cp }, type: 'Opaque', stringData: { ...files } }, why: 'a new root with no overlap replaces the plugged-in CA' }];
          notes.push('Pods that restart get certificates from the new root and cannot talk to pods holding the old one (istio/istio#36723).');
        } else {
          const { anchor, issuer } = await linkerdIdentity({ now: ctx.now });
          changes = [
            { type: 'apply', object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'linkerd-identity-trust-roots', namespace: cp }, data: { 'ca-bundle.crt': anchor.certPem } }, why: 'a new trust anchor with no overlap' },
            { type: 'apply', object: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'linkerd-identity-issuer', namespace: cp }, type: 'kubernetes.io/tls', stringData: { 'crt.pem': issuer.certPem, 'key.pem': issuer.keyPem } }, why: 'an issuer chained to the new anchor' },
          ];
          notes.push('The trust anchor is copied into each pod at injection: pods injected after this cannot talk to older ones (mesh-facts §2.1).');
        }
      } else {
        const present: ObjectRef[] = [];
        for (const o of adapter.caObjects.filter((c) => c.kind === 'Secret')) {
          if (await ctx.kube.get('v1', 'Secret', o.namespace, o.name)) present.push({ apiVersion: 'v1', kind: 'Secret', namespace: o.namespace, name: o.name });
        }
        changes = present.map((ref): Change => ({ type: 'delete', ref, why: 'the CA secret is lost' }));
        // istiod answers a missing cacerts with a self-signed istio-ca-secret (control-plane.ts): put it back as it was.
        if (adapter.name === 'istio') changes.unshift(...adapter.caObjects.filter((o) => o.kind === 'Secret' && !present.some((p) => p.name === o.name)).map((o): Change => ({ type: 'track', ref: { apiVersion: 'v1', kind: 'Secret', namespace: o.namespace, name: o.name }, why: 'istiod creates it when no CA secret is left' })));
        notes.push(adapter.name === 'istio' ? 'istiod keeps signing with the CA it loaded until it restarts (selfsignedcarootcertrotator.go).' : 'The identity service keeps the issuer it loaded; a restart cannot load one.');
      }
      return { type: spec.type, name, summary: `CA loss (${spec.variant})`, notes, changes, probes: [{ sli: 'cert-min-remaining', scope: meshWide, why: 'certificates run down without renewal' }, { sli: 'success-rate', scope: meshWide, why: 'mTLS fails once certificates expire' }] };
    }
    case 'control-plane-partition': {
      const changes: Change[] = spec.namespaces.map((ns) => ({
        type: 'apply',
        object: labelled(
          {
            apiVersion: 'networking.k8s.io/v1',
            kind: 'NetworkPolicy',
            metadata: { name: 'meshdrill-control-plane-partition', namespace: ns },
            spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [cp] }] } }] }] },
          },
          ctx.runId,
        ),
        why: `pods in ${ns} cannot reach ${cp}; everything else stays reachable`,
      }));
      return {
        type: spec.type,
        name,
        summary: `${spec.namespaces.join(', ')} cut off from the control plane`,
        notes: ['The API server is not a pod the policy selects: it stays reachable. Needs a CNI that enforces NetworkPolicy (kind ≥ v0.24).'],
        changes,
        // Only Envoy sidecars tell when their config last arrived (SLI_UNAVAILABLE says why the others do not).
        probes: spec.namespaces.flatMap((ns) => [
          ...(adapter.name === 'istio' && adapter.mode === 'sidecar' ? [{ sli: 'proxy-config-age' as const, scope: { namespace: ns }, why: 'config stops arriving' }] : []),
          { sli: 'success-rate' as const, scope: { namespace: ns }, why: 'traffic runs on the last config' },
        ]),
      };
    }
    case 'control-plane-crash': {
      const components = adapter.controlPlane.components.map((c) => c.name);
      if (spec.method === 'scale-to-zero') {
        return { type: spec.type, name, summary: `control plane scaled to zero (${components.join(', ')})`, notes: ['The injection webhook\'s failurePolicy decides whether new pods start (Istio: Fail, Linkerd: Ignore).', ...(spec.every ? ['every: a scaled-down control plane stays down; repetition applies to delete-pods.'] : [])], changes: components.map((c) => ({ type: 'scale' as const, ref: DEPLOYMENT(cp, c), replicas: 0, why: 'the control plane is down' })), probes: [{ sli: 'success-rate', scope: meshWide, why: 'the data plane runs on' }] };
      }
      const all = await ctx.kube.list('v1', 'Pod', { namespace: cp });
      const pods = spec.pods === undefined ? all : [...all].sort(() => ctx.random() - 0.5).slice(0, spec.pods);
      return { type: spec.type, name, summary: `control-plane pods deleted (${pods.length} of ${all.length})`, notes: ['Their Deployments start new pods at once.', ...(pods.length < all.length ? [`${all.length - pods.length} keep serving meanwhile: with more than one replica, losing one is what high availability absorbs.`] : [])], changes: pods.map((p) => ({ type: 'delete' as const, ref: { apiVersion: 'v1', kind: 'Pod', namespace: cp, name: p.metadata.name }, why: 'crash' })), probes: [{ sli: 'success-rate', scope: meshWide, why: 'the data plane runs on' }] };
    }
    case 'injector-outage': {
      const injector = component(adapter, 'injector');
      return {
        type: spec.type,
        name,
        summary: `sidecar injector ${injector} unreachable`,
        notes: adapter.name === 'istio' ? ['On Istio the injector is istiod itself: this also stops the CA and xDS. New pods in injected namespaces are rejected (failurePolicy Fail).'] : ['Linkerd\'s webhook fails open (failurePolicy Ignore): new pods start without a proxy, silently.'],
        changes: [{ type: 'scale', ref: DEPLOYMENT(cp, injector), replicas: 0, why: 'the injector webhook has no endpoint' }],
        probes: [{ sli: 'success-rate', scope: meshWide, why: 'running pods are unaffected' }],
      };
    }
    case 'proxy-crash': {
      const share = parsePercent(spec.share) ?? 25;
      const changes: Change[] = [];
      for (const ns of spec.namespaces) {
        const pods = (await ctx.kube.list('v1', 'Pod', { namespace: ns })).filter((p) => JSON.stringify(p['spec'] ?? {}).includes(adapter.name === 'istio' ? '"istio-proxy"' : '"linkerd-proxy"'));
        const count = Math.round((pods.length * share) / 100);
        const chosen = [...pods].sort(() => ctx.random() - 0.5).slice(0, count);
        for (const p of chosen) changes.push({ type: 'delete', ref: { apiVersion: 'v1', kind: 'Pod', namespace: ns, name: p.metadata.name }, why: 'its proxy crashed; the ReplicaSet starts a new pod' });
      }
      return { type: spec.type, name, summary: `${changes.length} meshed pods restarted (${spec.share} of ${spec.namespaces.join(', ')})`, notes: ['A restarted proxy needs the control plane to become Ready again: crashing proxies while the control plane is impaired widens the outage.'], changes, probes: spec.namespaces.map((ns) => ({ sli: 'success-rate' as const, scope: { namespace: ns }, why: 'retries and outlier detection hide or expose it' })) };
    }
    case 'http-fault': {
      if (adapter.name !== 'istio') throw new Error('http-fault on Linkerd needs an HTTPRoute split to a failing backend, which meshdrill does not generate yet; use Istio or another fault');
      const [ns, svc] = spec.destination.split('/') as [string, string];
      const host = `${svc}.${ns}.svc.cluster.local`;
      const fault: Record<string, unknown> = {};
      if (spec.delay) fault['delay'] = { fixedDelay: `${(parseDuration(spec.delay.fixed) ?? 0) / 1000}s`, percentage: { value: parsePercent(spec.delay.percentage) ?? 0 } };
      if (spec.abort) fault['abort'] = { httpStatus: spec.abort.httpStatus, percentage: { value: parsePercent(spec.abort.percentage) ?? 0 } };
      return {
        type: spec.type,
        name,
        summary: `HTTP fault for callers of ${spec.destination}`,
        notes: ['Istio applies VirtualService faults in the caller\'s proxy: unmeshed callers never see them (mesh-facts §1.9).'],
        changes: [{ type: 'apply', object: labelled({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: `meshdrill-fault-${svc}`.slice(0, 63), namespace: ns }, spec: { hosts: [host], http: [{ fault, route: [{ destination: { host } }] }] } }, ctx.runId), why: 'delay or abort at the callers' }],
        probes: [{ sli: 'success-rate', scope: { service: spec.destination }, why: 'callers see the injected errors' }, { sli: 'latency-p99', scope: { service: spec.destination }, why: 'callers see the injected delay' }],
      };
    }
    case 'node-loss': {
      if (!ctx.nodes || ctx.nodes.length === 0) throw new Error('node-loss needs a provider that can stop nodes');
      if (spec.nodes >= ctx.nodes.length) throw new Error(`node-loss of ${spec.nodes} would leave no worker node (the cluster has ${ctx.nodes.length})`);
      const chosen = [...ctx.nodes].sort(() => ctx.random() - 0.5).slice(0, spec.nodes);
      return { type: spec.type, name, summary: `${chosen.join(', ')} lost`, notes: ['Pods on lost nodes are evicted and rescheduled; endpoints follow.'], changes: chosen.map((node) => ({ type: 'node-ready' as const, node, ready: false, why: 'the node stops' })), probes: [{ sli: 'success-rate', scope: meshWide, why: 'rescheduling and endpoint updates' }] };
    }
    case 'region-loss': {
      // A fleet's nodes are named "<cluster>/<node>"; one cluster's are its region.
      const clusters = [...new Set((ctx.nodes ?? []).filter((n) => n.includes('/')).map((n) => n.split('/')[0]!))];
      if (clusters.length === 0) throw new Error('region-loss takes down one cluster of a fleet; this run has one cluster (node-loss stops some of its nodes)');
      if (!clusters.includes(spec.cluster)) throw new Error(`region-loss: no cluster "${spec.cluster}" in this fleet${didYouMean(spec.cluster, clusters)} (its clusters: ${clusters.join(', ')})`);
      if (clusters.length < 2) throw new Error('region-loss would leave no cluster');
      const nodes = (ctx.nodes ?? []).filter((n) => n.startsWith(`${spec.cluster}/`));
      return {
        type: spec.type,
        name,
        summary: `region of ${spec.cluster} lost (${nodes.length} nodes)`,
        notes: [`Every node of ${spec.cluster} stops: its pods answer nothing at once, while the API keeps them Ready until the node-monitor grace period has passed; callers in the other clusters meet connect timeouts meanwhile (Istio retries them on other hosts), then istiod drops the endpoints.`],
        changes: nodes.map((node) => ({ type: 'node-ready' as const, node, ready: false, why: 'the region is down' })),
        probes: [{ sli: 'success-rate', scope: meshWide, why: 'the survivors\' callers fail over' }, { sli: 'latency-p99', scope: meshWide, why: 'connect timeouts before the endpoints go' }],
      };
    }
    case 'proxy-cpu-saturation':
    case 'proxy-memory-leak':
      return planProxyResourceFault(spec, ctx, name);
    case 'circuit-breaker':
      return planCircuitBreaker(spec, ctx, name);
    case 'routing-loop':
      return planRoutingLoop(spec, ctx, name);
    case 'telemetry-drop':
      return planTelemetryDrop(spec, ctx, name);
    case 'zone-partition':
      return planZonePartition(spec, ctx, name);
    case 'mtls-relaxation':
      return planMtlsRelaxation(spec, ctx, name);
    case 'cert-expiry': {
      const lifetimeMs = parseDuration(spec.lifetime) ?? 3_600_000;
      const config = (await adapter.installManifests({ certLifetimeMs: lifetimeMs, now: ctx.now })).find((o) => o.kind === 'ConfigMap' && (o.metadata.name === 'istio' || o.metadata.name === 'linkerd-config'));
      if (!config) throw new Error(`${adapter.name} has no mesh config object for certificate lifetimes`);
      const signer = component(adapter, 'ca');
      return {
        type: spec.type,
        name,
        summary: `certificate lifetime ${spec.lifetime}, then the signer stops`,
        notes: ['Certificates issued before keep their lifetime until their next renewal; install with a short certLifetime to see expiry within minutes.'],
        changes: [
          { type: 'apply', object: config, why: `certificates issued from now on live ${spec.lifetime}` },
          { type: 'scale', ref: DEPLOYMENT(cp, signer), replicas: 0, why: 'no renewal' },
        ],
        probes: [{ sli: 'cert-min-remaining', scope: meshWide, why: 'certificates run down' }, { sli: 'success-rate', scope: meshWide, why: 'mTLS fails at expiry' }],
      };
    }
  }
}
