"""The embedded cluster through the official Python client: what a second real client sees.

Run as: python3 conformance.py <kubeconfig>; prints one JSON object of findings on stdout.
"""
import json
import sys
import time

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException


def main(path):
    config.load_kube_config(config_file=path)
    core = client.CoreV1Api()
    apps = client.AppsV1Api()
    out = {}

    out["namespaces"] = sorted(n.metadata.name for n in core.list_namespace().items)
    out["kubernetes_service"] = core.read_namespaced_service("kubernetes", "default").spec.cluster_ip

    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="py")))
    start_rv = core.list_namespaced_config_map("py").metadata.resource_version
    cm = core.create_namespaced_config_map("py", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="settings", labels={"app": "py"}), data={"a": "1"}))
    core.patch_namespaced_config_map("settings", "py", {"data": {"a": "2"}})
    out["patched"] = core.read_namespaced_config_map("settings", "py").data
    out["by_label"] = [c.metadata.name for c in core.list_namespaced_config_map("py", label_selector="app=py").items]

    # The client sends watch=True; the server must stream events, not answer with a list.
    events = []
    for event in watch.Watch().stream(core.list_namespaced_config_map, "py", resource_version=start_rv, timeout_seconds=2):
        events.append([event["type"], event["object"].metadata.name, (event["object"].data or {}).get("a")])
    out["watch"] = events

    try:
        core.create_namespaced_config_map("py", cm)
        out["duplicate"] = "created"
    except ApiException as e:
        out["duplicate"] = [e.status, json.loads(e.body)["reason"]]

    deployment = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V1DeploymentSpec(
            replicas=2,
            selector=client.V1LabelSelector(match_labels={"app": "web"}),
            template=client.V1PodTemplateSpec(metadata=client.V1ObjectMeta(labels={"app": "web"}), spec=client.V1PodSpec(containers=[client.V1Container(name="app", image="nginx:1.27")])),
        ),
    )
    apps.create_namespaced_deployment("py", deployment)
    deadline = time.time() + 30
    while time.time() < deadline:
        status = apps.read_namespaced_deployment_status("web", "py").status
        if (status.ready_replicas or 0) == 2:
            break
        time.sleep(0.1)
    out["ready_replicas"] = apps.read_namespaced_deployment_status("web", "py").status.ready_replicas
    pod = core.list_namespaced_pod("py", label_selector="app=web").items[0].metadata.name
    out["log"] = core.read_namespaced_pod_log(pod, "py")

    try:
        core.connect_get_namespaced_pod_exec(pod, "py", command=["true"], stderr=True, stdin=False, stdout=True, tty=False)
        out["exec"] = "ran"
    except ApiException as e:
        out["exec"] = [e.status]

    core.delete_namespace("py")
    out["terminating"] = core.read_namespace("py").status.phase
    try:
        core.create_namespaced_config_map("py", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="late")))
        out["create_in_terminating"] = "created"
    except ApiException as e:
        out["create_in_terminating"] = [e.status, json.loads(e.body)["reason"]]
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            core.read_namespace("py")
            time.sleep(0.1)
        except ApiException as e:
            out["namespace_gone"] = e.status
            break

    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
