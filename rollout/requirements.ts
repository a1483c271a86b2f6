import { isPodReady, type KubeClient } from '../clusters/index.js';
import type { MeshAdapter } from '../meshes/index.js';
import type { Topology } from '../model/index.js';
import { formatValue, type GateSources, type Window } from '../slo/index.js';
import type { Requirement } from './schema.js';
import type { StagePlan } from './stage.js';

export interface RequirementCheck {
  requirement: Requirement;
  holds: boolean;
  reason: string;
}

/** Below this share of failed or reset requests (callers' view) the environment counts as healthy. */
const HEALTHY_FAILED_PERCENT = 5;

/**
 * Checks a stage's `requires` against the live cluster before the stage is proposed:
 * - all-callers-meshed: no plaintext request reached a namespace the stage makes STRICT over the
 *   window, by the mesh's own telemetry (Istio's connection_security_policy, Linkerd's tls label;
 *   PERMISSIVE accepts and reports plaintext — mesh-facts §1.5). No traffic at all is not evidence.
 *   Gateways are not governed by STRICT (an Istio gateway has no inbound sidecar; meshdrill's
 *   Linkerd Server leaves them out): a namespace of gateways only has nothing to prove, and a
 *   gateway's own outside traffic is not counted (it reports no inbound telemetry).
 * - baseline-healthy: the callers saw fewer than 5 % failed or reset requests over the window.
 * - control-plane-ready: every control-plane pod is Ready.
 */
export async function checkRequirements(requirements: Requirement[], input: { next: StagePlan; sources: GateSources; window: Window; kube: KubeClient; adapter: MeshAdapter; topology?: Topology }): Promise<RequirementCheck[]> {
  const checks: RequirementCheck[] = [];
  for (const requirement of requirements) {
    switch (requirement) {
      case 'all-callers-meshed': {
        const gatewaysOnly = new Set((input.topology?.spec.namespaces ?? []).filter((n) => n.services.length > 0 && n.services.every((s) => s.gateway)).map((n) => n.name));
        const strict = input.next.namespaces.filter((n) => n.meshed && n.mtls === 'STRICT').map((n) => n.namespace);
        const problems: string[] = [];
        for (const namespace of strict) {
          if (gatewaysOnly.has(namespace)) continue;
          const m = await input.sources.mesh.measure('plaintext-share', { namespace }, input.window);
          if (m.error) problems.push(`${namespace}: ${m.error}`);
          else if (!Number.isFinite(m.value) || m.samples === 0) problems.push(`${namespace}: no requests measured, so no evidence that every caller is meshed`);
          else if (m.value > 0) problems.push(`${namespace}: ${formatValue('plaintext-share', m.value)} of requests arrived in plaintext`);
        }
        checks.push({ requirement, holds: problems.length === 0, reason: problems.length ? problems.join('; ') : strict.length ? `no plaintext into ${strict.filter((n) => !gatewaysOnly.has(n)).join(', ') || 'a namespace STRICT governs'}${[...gatewaysOnly].some((n) => strict.includes(n)) ? ` (${strict.filter((n) => gatewaysOnly.has(n)).join(', ')}: gateways only, which STRICT does not govern)` : ''}` : 'the stage makes no namespace STRICT' });
        break;
      }
      case 'baseline-healthy': {
        const client = input.sources.client;
        if (!client) {
          checks.push({ requirement, holds: false, reason: 'no callers\' view to judge the environment by' });
          break;
        }
        const m = await client.measure('error-rate-5xx', {}, input.window);
        const holds = Number.isFinite(m.value) && m.samples > 0 && m.value < HEALTHY_FAILED_PERCENT;
        checks.push({ requirement, holds, reason: Number.isFinite(m.value) ? `callers saw ${formatValue('error-rate-5xx', m.value)} failed or reset requests` : 'no requests measured' });
        break;
      }
      case 'control-plane-ready': {
        const { namespace } = input.adapter.controlPlane;
        const pods = await input.kube.list('v1', 'Pod', { namespace });
        const unready = pods.filter((p) => !isPodReady(p));
        checks.push({ requirement, holds: pods.length > 0 && unready.length === 0, reason: pods.length === 0 ? `no pods in ${namespace}` : unready.length ? `not ready: ${unready.map((p) => p.metadata.name).join(', ')}` : `${pods.length} control-plane pods ready` });
        break;
      }
    }
  }
  return checks;
}
