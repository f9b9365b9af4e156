"""Garbage collection (mintcloud.garbage): one paged LIST per kind per cluster."""

from mintcloud.apply import APP_LABEL, RETAIN_LABEL, apply_app
from mintcloud.garbage import GC_KINDS, delete_garbage, find_garbage


def configmap(name, labels=None):
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels or {}},
    }


def test_objects_the_inventory_missed_are_found_and_deleted(kube_api, kube_client):
    acme = apply_app(kube_client, "acme", "acme", [configmap("kept")])
    # A run that failed half-way left an object its inventory never held.
    leftover = apply_app(
        kube_client, "acme", "acme", [configmap("leftover")], prune=False
    )
    int_app = apply_app(kube_client, "acme-int", "acme", [configmap("int")])
    retained = apply_app(
        kube_client,
        "acme",
        "acme",
        [configmap("backup", {RETAIN_LABEL: "true"})],
        prune=False,
    )
    assert acme.ok and leftover.ok and int_app.ok and retained.ok
    # Another app the caller does not judge (no inventory known).
    apply_app(kube_client, "globex", "globex", [configmap("theirs")])
    kube_api.reset_requests()

    inventories = {
        "acme": acme.inventory(),
        "acme-int": int_app.inventory(),
        "globex": None,
    }
    garbage = find_garbage(kube_client, inventories)

    assert [(g["app"], g["kind"], g["name"]) for g in garbage] == [
        ("acme", "ConfigMap", "leftover")
    ]
    lists = [
        r for r in kube_api.requests if r.method == "GET" and "labelSelector" in r.query
    ]
    assert len(lists) == len(GC_KINDS), "one LIST per kind for the whole cluster"
    assert all("/namespaces/" not in r.path for r in lists)
    assert all(r.query["labelSelector"] == APP_LABEL for r in lists)

    results = delete_garbage(kube_client, garbage)
    assert [(o.name, o.action) for o in results] == [("leftover", "pruned")]
    assert kube_api.get_object("v1", "ConfigMap", "leftover", "acme") is None
    for name, namespace in (
        ("kept", "acme"),
        ("int", "acme"),
        ("backup", "acme"),
        ("theirs", "globex"),
    ):
        assert kube_api.get_object("v1", "ConfigMap", name, namespace), name


def test_pages_keep_memory_flat(kube_api, kube_client):
    docs = [configmap(f"c{i:03d}") for i in range(12)]
    result = apply_app(kube_client, "acme", "acme", docs)
    kube_api.reset_requests()
    garbage = find_garbage(
        kube_client,
        {"acme": result.inventory()[:-3]},
        kinds=(("v1", "ConfigMap"),),
        page_size=5,
    )
    assert [g["name"] for g in garbage] == ["c009", "c010", "c011"]
    pages = [r for r in kube_api.requests if "labelSelector" in r.query]
    assert [r.query.get("limit") for r in pages] == ["5", "5", "5"]
    assert ["continue" in r.query for r in pages] == [False, True, True]


def job(name):
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "reset", "image": "busybox"}],
                }
            }
        },
    }


def deployment(name):
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "odoo", "image": "odoo:17"}]},
            },
        },
    }


def test_jobs_are_never_garbage(kube_api, kube_client):
    """Reset, backup and upgrade runs write no inventory: their Jobs (still
    running, or done) must be neither reported nor deleted, while a leftover
    Deployment of the same app still is."""
    acme = apply_app(kube_client, "acme", "acme", [configmap("kept")])
    reset = apply_app(kube_client, "acme", "acme", [job("acme-reset-x1")], prune=False)
    leftover = apply_app(
        kube_client, "acme", "acme", [deployment("acme-old")], prune=False
    )
    assert acme.ok and reset.ok and leftover.ok
    kube_api.reset_requests()

    garbage = find_garbage(kube_client, {"acme": acme.inventory()})

    assert [(g["app"], g["kind"], g["name"]) for g in garbage] == [
        ("acme", "Deployment", "acme-old")
    ]
    assert not any("/jobs" in r.path for r in kube_api.requests)
    results = delete_garbage(kube_client, garbage)
    assert [(o.kind, o.name, o.action) for o in results] == [
        ("Deployment", "acme-old", "pruned")
    ]
    assert kube_api.get_object("batch/v1", "Job", "acme-reset-x1", "acme")
    assert kube_api.get_object("apps/v1", "Deployment", "acme-old", "acme") is None


def test_a_kind_is_listed_at_the_given_api_version(kube_api, kube_client):
    """A custom resource (external-dns' DNSEndpoint) is listed at its own
    apiVersion, not skipped as an unknown ``v1`` kind."""
    record = {
        "apiVersion": "externaldns.k8s.io/v1alpha1",
        "kind": "DNSEndpoint",
        "metadata": {"name": "acme-mail"},
        "spec": {"endpoints": []},
    }
    acme = apply_app(kube_client, "acme", "acme", [configmap("kept")])
    leftover = apply_app(kube_client, "acme", "acme", [record], prune=False)
    assert acme.ok and leftover.ok, leftover.objects

    garbage = find_garbage(
        kube_client,
        {"acme": acme.inventory()},
        kinds=(("externaldns.k8s.io/v1alpha1", "DNSEndpoint"), ("v1", "ConfigMap")),
    )

    assert [(g["apiVersion"], g["kind"], g["name"]) for g in garbage] == [
        ("externaldns.k8s.io/v1alpha1", "DNSEndpoint", "acme-mail")
    ]
    assert [o.action for o in delete_garbage(kube_client, garbage)] == ["pruned"]
    assert (
        kube_api.get_object(
            "externaldns.k8s.io/v1alpha1", "DNSEndpoint", "acme-mail", "acme"
        )
        is None
    )
