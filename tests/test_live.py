"""The apply / prune / status flow against a real cluster.

Every test is marked ``live`` (deselect with ``-m "not live"``) and is
skipped unless the ``KUBECONFIG`` environment variable names a kubeconfig
file.  Everything happens in a throwaway namespace that is deleted at the end.
"""

import os
import time
import uuid

import pytest
from kubernetes import client as k8s

from mintcloud.apply import APP_LABEL, FIELD_MANAGER, apply_app, delete_app
from mintcloud.kube import api_client, dynamic_client, server_version
from mintcloud.status import collect_status

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        not os.environ.get("KUBECONFIG"), reason="KUBECONFIG is not set"
    ),
]

READY_TIMEOUT = 180  # seconds to wait for the pause pod to become ready


@pytest.fixture(scope="module")
def live_client():
    path = os.environ["KUBECONFIG"].split(os.pathsep)[0]
    with open(path, encoding="utf-8") as handle:
        client = api_client(kubeconfig=handle.read())
    server_version(client)  # fail early and clearly when the cluster is unreachable
    return client


@pytest.fixture
def namespace(live_client):
    name = f"mintcloud-live-{uuid.uuid4().hex[:8]}"
    yield name
    try:
        k8s.CoreV1Api(live_client).delete_namespace(
            name, propagation_policy="Background"
        )
    except k8s.ApiException as exc:
        if exc.status != 404:
            raise


def docs(app, replicas=1, data="one"):
    selector = {"app.kubernetes.io/name": app}
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": f"{app}-config"},
            "data": {"value": data},
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": app},
            "spec": {"selector": dict(selector), "ports": [{"port": 80}]},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": app},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": dict(selector)},
                "template": {
                    "metadata": {"labels": dict(selector)},
                    "spec": {
                        "containers": [
                            {"name": "pause", "image": "registry.k8s.io/pause:3.9"}
                        ]
                    },
                },
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": app},
            "spec": {
                "rules": [
                    {
                        "host": f"{app}.example.test",
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {
                                        "service": {"name": app, "port": {"number": 80}}
                                    },
                                }
                            ]
                        },
                    }
                ],
                "tls": [{"hosts": [f"{app}.example.test"], "secretName": f"{app}-tls"}],
            },
        },
    ]


def test_apply_prune_and_status_on_a_real_cluster(live_client, namespace):
    ns = namespace

    # Dry run into a missing namespace: nothing is stored.
    dry = apply_app(live_client, "live", ns, docs("live"), dry_run=True)
    assert dry.ok, dry.errors
    assert all(o.action == "created" for o in dry.objects)
    names = [n.metadata.name for n in k8s.CoreV1Api(live_client).list_namespace().items]
    assert ns not in names

    # First run creates, second changes nothing.
    first = apply_app(live_client, "live", ns, docs("live"))
    assert first.ok, first.errors
    assert first.counts() == {"created": 5}
    second = apply_app(live_client, "live", ns, docs("live"))
    assert second.ok, second.errors
    assert second.counts() == {"unchanged": 5}

    # Another app in the same namespace.
    other = apply_app(live_client, "live-int", ns, docs("live-int"))
    assert other.ok, other.errors

    # A changed document is configured; a dry run reports without storing.
    changed = docs("live", data="two")
    preview = apply_app(live_client, "live", ns, changed, dry_run=True)
    assert preview.counts() == {"unchanged": 4, "configured": 1}
    cm = k8s.CoreV1Api(live_client).read_namespaced_config_map("live-config", ns)
    assert cm.data == {"value": "one"}
    assert apply_app(live_client, "live", ns, changed).counts() == {
        "unchanged": 4,
        "configured": 1,
    }

    # Status: one LIST per kind, grouped by app.
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        status = collect_status(live_client, namespaces=[ns])
        if status["live"].state == "running" or time.monotonic() > deadline:
            break
        time.sleep(3)
    assert set(status) == {"live", "live-int"}
    assert status["live"].state == "running", status["live"].message
    assert status["live"].hosts == ["live.example.test"]
    assert (status["live"].ready, status["live"].desired) == (1, 1)

    # A removed document is pruned; the other app keeps everything.
    pruned = apply_app(live_client, "live", ns, changed[:2])
    assert pruned.counts() == {"unchanged": 3, "pruned": 2}
    apps = k8s.AppsV1Api(live_client)
    deployments = apps.list_namespaced_deployment(ns, label_selector=APP_LABEL).items
    assert [d.metadata.labels[APP_LABEL] for d in deployments] == ["live-int"]

    # delete_app removes the rest of one app only.
    gone = delete_app(live_client, "live-int", ns)
    assert gone.ok and gone.counts() == {"pruned": 4}
    left = k8s.CoreV1Api(live_client).list_namespaced_config_map(
        ns, label_selector=APP_LABEL
    )
    assert [c.metadata.name for c in left.items] == ["live-config"]


def test_conflict_with_another_manager_on_a_real_cluster(live_client, namespace):
    ns = namespace
    assert apply_app(live_client, "live", ns, docs("live")[:1]).ok
    resource = dynamic_client(live_client).resources.get(
        api_version="v1", kind="ConfigMap"
    )
    resource.server_side_apply(
        body={
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "live-config"},
            "data": {"value": "theirs"},
        },
        namespace=ns,
        field_manager="live-test-ops",
        force_conflicts=True,
    )

    result = apply_app(live_client, "live", ns, docs("live", data="ours")[:1])

    assert result.ok is False and result.prune_skipped
    (message,) = result.errors
    assert message.startswith(
        f"ConfigMap {ns}/live-config: Apply failed with 1 conflict"
    )
    assert "live-test-ops" in message
    cm = k8s.CoreV1Api(live_client).read_namespaced_config_map("live-config", ns)
    assert cm.data == {"value": "theirs"}
    managers = {m.manager for m in cm.metadata.managed_fields}
    assert FIELD_MANAGER in managers


def test_unknown_kind_on_a_real_cluster(live_client, namespace):
    widget = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
    }
    result = apply_app(live_client, "live", namespace, [widget])
    assert result.errors == [
        "Widget (example.com/v1): unknown kind Widget in apiVersion example.com/v1"
    ]
