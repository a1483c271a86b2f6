import type { KubeObject } from '../clusters/index.js';

export const PROMETHEUS_NAMESPACE = 'meshdrill-monitoring';
export const PROMETHEUS_IMAGE = 'prom/prometheus:v2.53.2';

/** Where k6 in the cluster remote-writes to the bundled Prometheus. */
export function prometheusRemoteWriteUrl(namespace = PROMETHEUS_NAMESPACE): string {
  return `http://prometheus.${namespace}.svc:9090/api/v1/write`;
}

/**
 * A small Prometheus for a cluster meshdrill made: it scrapes every pod annotated
 * `prometheus.io/scrape` — Istio's sidecars and ztunnel expose merged metrics that way on 15020,
 * Linkerd's proxies on their admin port 4191 — like the meshes' own Prometheus addons do, with
 * a 5 s interval so game-day windows have samples. Reached from meshdrill by a port-forward.
 */
export function prometheusManifests(namespace = PROMETHEUS_NAMESPACE): KubeObject[] {
  const labels = { app: 'prometheus', 'app.kubernetes.io/managed-by': 'meshdrill' };
  const config = [
    'global:',
    '  scrape_interval: 5s',
    'scrape_configs:',
    '  - job_name: kubernetes-pods',
    '    kubernetes_sd_configs: [{role: pod}]',
    '    relabel_configs:',
    '      - {source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape], action: keep, regex: "true"}',
    '      - {source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_path], action: replace, target_label: __metrics_path__, regex: (.+)}',
    '      - {source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port], action: replace, regex: "([^:]+)(?::\\\\d+)?;(\\\\d+)", replacement: "$1:$2", target_label: __address__}',
    '      - {action: labelmap, regex: __meta_kubernetes_pod_label_(.+)}',
    '      - {source_labels: [__meta_kubernetes_namespace], target_label: namespace}',
    '      - {source_labels: [__meta_kubernetes_pod_name], target_label: pod}',
    // Proxy memory and CPU (container_memory_working_set_bytes, container_cpu_usage_seconds_total
    // for istio-proxy / linkerd-proxy) come from the kubelet's cAdvisor endpoint on every node
    // (Prometheus's kubernetes example config). Kubelet serving certificates are often
    // self-signed (kind's are), hence no verification of the kubelet's certificate.
    '  - job_name: kubernetes-cadvisor',
    '    scheme: https',
    '    metrics_path: /metrics/cadvisor',
    '    tls_config: {ca_file: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt, insecure_skip_verify: true}',
    '    authorization: {credentials_file: /var/run/secrets/kubernetes.io/serviceaccount/token}',
    '    kubernetes_sd_configs: [{role: node}]',
    '    relabel_configs:',
    '      - {action: labelmap, regex: __meta_kubernetes_node_label_(.+)}',
    '  - job_name: linkerd-proxy',
    '    kubernetes_sd_configs: [{role: pod}]',
    '    relabel_configs:',
    '      - {source_labels: [__meta_kubernetes_pod_container_name, __meta_kubernetes_pod_container_port_name], action: keep, regex: "^linkerd-proxy;linkerd-admin$"}',
    '      - {source_labels: [__meta_kubernetes_namespace], target_label: namespace}',
    '      - {source_labels: [__meta_kubernetes_pod_name], target_label: pod}',
    '',
  ].join('\n');
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { 'app.kubernetes.io/managed-by': 'meshdrill', 'istio-injection': 'disabled' }, annotations: { 'linkerd.io/inject': 'disabled' } } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'prometheus', namespace, labels } },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'meshdrill-prometheus', labels }, rules: [{ apiGroups: [''], resources: ['pods', 'endpoints', 'services', 'nodes'], verbs: ['get', 'list', 'watch'] }, { apiGroups: [''], resources: ['nodes/metrics'], verbs: ['get'] }] },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'meshdrill-prometheus', labels }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'meshdrill-prometheus' }, subjects: [{ kind: 'ServiceAccount', name: 'prometheus', namespace }] },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'prometheus', namespace, labels }, data: { 'prometheus.yml': config } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'prometheus', namespace, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'prometheus' } },
        template: {
          metadata: { labels, annotations: { 'sidecar.istio.io/inject': 'false' } },
          spec: {
            serviceAccountName: 'prometheus',
            containers: [
              {
                name: 'prometheus',
                image: PROMETHEUS_IMAGE,
                // k6 remote-writes its own metrics here (the callers' view as time series), its trends
                // as native histograms so percentiles merge across runners.
                args: ['--config.file=/etc/prometheus/prometheus.yml', '--storage.tsdb.retention.time=1d', '--web.enable-lifecycle', '--web.enable-remote-write-receiver', '--enable-feature=native-histograms'],
                ports: [{ containerPort: 9090, name: 'http' }],
                readinessProbe: { httpGet: { path: '/-/ready', port: 9090 } },
                resources: { requests: { cpu: '50m', memory: '200Mi' } },
                volumeMounts: [{ name: 'config', mountPath: '/etc/prometheus' }],
              },
            ],
            volumes: [{ name: 'config', configMap: { name: 'prometheus' } }],
          },
        },
      },
    },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'prometheus', namespace, labels }, spec: { selector: { app: 'prometheus' }, ports: [{ name: 'http', port: 9090, targetPort: 9090 }] } },
  ];
}
