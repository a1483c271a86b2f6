import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimCluster, type SimCluster } from '../clusters/sim/index.js';
import { crd } from '../meshes/objects.js';
import { kubectlAvailable, kubectlFor, type KubectlResult } from './helpers/kubectl.js';

// The meshes' CRDs as meshdrill installs them, with their structural schemas, through the real
// kubectl: the embedded API server refuses, prunes and converts as a real one does.
const hasKubectl = await kubectlAvailable();

describe.skipIf(!hasKubectl)('mesh CRDs on the embedded cluster with the real kubectl', () => {
  let cluster: SimCluster;
  let kubectl: (args: string[], input?: string) => Promise<KubectlResult>;

  beforeAll(async () => {
    cluster = await startSimCluster({ time: 'real', podStartDelayMs: 20 });
    kubectl = await kubectlFor(cluster.kubeconfig);
    await ok(['create', 'namespace', 'shop']);
  });
  afterAll(async () => {
    await cluster.close();
  });

  async function ok(args: string[], input?: string): Promise<string> {
    const result = await kubectl(args, input);
    expect(result, `kubectl ${args.join(' ')}\n${result.stderr}`).toMatchObject({ code: 0 });
    return result.stdout;
  }

  it('validates custom resources against their CRD\'s schema as a real API server does', async () => {
    const crds = [crd('security.istio.io', 'PeerAuthentication', 'peerauthentications', ['v1beta1', 'v1']), crd('networking.istio.io', 'VirtualService', 'virtualservices', ['v1alpha3', 'v1beta1', 'v1'])];
    await ok(['apply', '-f', '-'], crds.map((c) => JSON.stringify(c)).join('\n'));
    const pa = (version: string, spec: string) => `apiVersion: security.istio.io/${version}\nkind: PeerAuthentication\nmetadata: {name: strict, namespace: shop}\nspec: ${spec}\n`;

    const badEnum = await kubectl(['apply', '-f', '-'], pa('v1', '{mtls: {mode: STRICTT}}'));
    const badType = await kubectl(['apply', '-f', '-'], 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: api, namespace: shop}\nspec: {hosts: [api], http: [{retries: {attempts: five}, route: [{destination: {host: api}}]}]}\n');
    const unknown = await kubectl(['apply', '-f', '-'], pa('v1', '{mtls: {mood: STRICT}}'));
    const noKind = await kubectl(['apply', '-f', '-'], 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: shop}\n');
    await ok(['apply', '-f', '-'], pa('v1beta1', '{mtls: {mode: STRICT}}'));
    await ok(['apply', '-f', '-'], pa('v1', '{mtls: {mode: PERMISSIVE}}'));
    const asV1beta1 = await ok(['get', 'peerauthentications.v1beta1.security.istio.io', 'strict', '-n', 'shop', '-o', 'jsonpath={.apiVersion} {.spec.mtls.mode}']);

    expect(badEnum.code).toBe(1);
    expect(badEnum.stderr).toContain('spec.mtls.mode: Unsupported value: "STRICTT": supported values: "UNSET", "DISABLE", "PERMISSIVE", "STRICT"');
    expect(badType.code).toBe(1);
    expect(badType.stderr).toContain('spec.http[0].retries.attempts in body must be of type integer: "string"');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown field "spec.mtls.mood"');
    expect(noKind.code).toBe(1);
    expect(noKind.stderr).toContain('no matches for kind "Widget" in version "example.com/v1"');
    expect(asV1beta1).toBe('security.istio.io/v1beta1 PERMISSIVE');
  });
});
