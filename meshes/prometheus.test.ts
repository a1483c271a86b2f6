import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prometheusManifests } from './prometheus.js';

// The Prometheus meshdrill installs on clusters it makes: its config as Prometheus itself reads
// it (promtool check config), with the jobs the SLIs need.
const promtool = spawnSync('promtool', ['--version']).status === 0;

describe.skipIf(!promtool)('the bundled Prometheus', () => {
  it('has a config promtool accepts, scraping the proxies and the kubelets\' cAdvisor (proxy memory and CPU)', async () => {
    const config = prometheusManifests().find((o) => o.kind === 'ConfigMap')!['data'] as Record<string, string>;
    const dir = await mkdtemp(join(tmpdir(), 'meshdrill-prom-config-'));
    // promtool reads the credential files the config names; the pod has them mounted.
    const text = config['prometheus.yml']!.replaceAll('/var/run/secrets/kubernetes.io/serviceaccount/', `${dir}/`);
    // Debian builds Prometheus without Kubernetes discovery: promtool checks the rest of each job
    // (TLS, authorization, relabelling) with the discovery swapped for a static target.
    const checkable = text.replace(/kubernetes_sd_configs: \[\{role: \w+\}\]/g, "static_configs: [{targets: ['node:10250']}]");
    await writeFile(join(dir, 'ca.crt'), '');
    await writeFile(join(dir, 'token'), 'x');
    await writeFile(join(dir, 'prometheus.yml'), checkable);

    const result = spawnSync('promtool', ['check', 'config', '--syntax-only', join(dir, 'prometheus.yml')], { encoding: 'utf8' });

    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(text).toContain('job_name: kubernetes-cadvisor');
    expect(text.match(/kubernetes_sd_configs: \[\{role: (\w+)\}\]/g)).toEqual(['kubernetes_sd_configs: [{role: pod}]', 'kubernetes_sd_configs: [{role: node}]', 'kubernetes_sd_configs: [{role: pod}]']);
    expect(text).toContain('metrics_path: /metrics/cadvisor');
  });

  it('may read the kubelets\' metrics, and nothing it does not need', () => {
    const role = prometheusManifests().find((o) => o.kind === 'ClusterRole') as unknown as { rules: Array<{ resources: string[]; verbs: string[] }> };

    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['pods', 'endpoints', 'services', 'nodes'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['nodes/metrics'], verbs: ['get'] },
    ]);
  });
});
