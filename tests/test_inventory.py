"""Applying from the app's inventory: one request per object plus one, prune
without LISTs, and never outside the app (mintcloud.apply)."""

import copy
import pathlib

import pytest
from kubernetes import client as k8s

from mintcloud.apply import APP_LABEL, apply_app, index_inventory
from mintcloud.render import render_manifests
from mintcloud.variables import load_vars_yml

ROOT = pathlib.Path(__file__).resolve().parent.parent
MANIFESTS = ROOT / "kubernetes_manifest" / "static" / "manifests"
DEMO = (
    "secret.yaml",
    "filestore-pvc.yaml",
    "postgres.yaml",
    "odoo.yaml",
    "ingress.yaml",
)
NS = "acme"


def demo_docs(**overrides):
    values = load_vars_yml(
        (ROOT / "tests" / "data" / "demo_vars.yml").read_text(encoding="utf-8"),
        ("admin_password", "db_password"),
    )
    for name, value in overrides.items():
        values[name] = value
    return render_manifests(
        [(name, (MANIFESTS / name).read_text(encoding="utf-8")) for name in DEMO],
        values,
    )


def api_requests(kube_api):
    """The requests a run sent, discovery left out (it is cached per client)."""
    return [
        r
        for r in kube_api.requests
        if not (
            r.method == "GET" and r.path in ("/api", "/apis", "/api/v1", "/version")
        )
        and not (
            r.method == "GET" and r.path.count("/") == 3 and r.path.startswith("/apis/")
        )
    ]


@pytest.fixture
def deployed(kube_api, kube_client):
    """The demo set applied once, as an app's first deployment (no inventory
    yet: every object is read before it is applied): ``(docs, inventory)``."""
    docs = demo_docs()
    first = apply_app(kube_client, "acme", NS, docs)
    assert first.ok, first.errors
    kube_api.reset_requests()
    return docs, first.inventory()


def test_the_inventory_holds_every_applied_object_with_its_version(deployed):
    docs, inventory = deployed
    assert len(docs) == 8
    assert [e["kind"] for e in inventory] == ["Namespace"] + [d["kind"] for d in docs]
    assert all(e["uid"] and e["resourceVersion"] for e in inventory)
    assert inventory[0]["namespace"] is None and inventory[1]["namespace"] == NS


def test_an_unchanged_re_apply_costs_objects_plus_one_requests(
    kube_api, kube_client, deployed
):
    docs, inventory = deployed
    result = apply_app(kube_client, "acme", NS, docs, inventory=inventory)

    assert result.counts() == {"unchanged": len(docs) + 1}
    sent = api_requests(kube_api)
    assert len(sent) <= len(docs) + 1, [(r.method, r.path) for r in sent]
    # The namespace's GET, then one server-side apply per object.
    assert [(r.method, r.path) for r in sent][0] == ("GET", "/api/v1/namespaces/acme")
    assert {r.method for r in sent[1:]} == {"PATCH"}
    assert all(r.content_type == "application/apply-patch+yaml" for r in sent[1:])
    # The new inventory equals the old one: nothing was written.
    assert result.inventory() == inventory


def test_changes_are_configured_and_recreated_objects_created(
    kube_api, kube_client, deployed
):
    docs, inventory = deployed
    # An object deleted behind Mint Cloud's back is made again: "created".
    k8s.CoreV1Api(kube_client).delete_namespaced_persistent_volume_claim(
        "acme-filestore", NS
    )
    changed = demo_docs(odoo_workers=7)  # the Secret's odoo.conf, a pod annotation
    result = apply_app(kube_client, "acme", NS, changed, inventory=inventory)
    actions = {(o.kind, o.name): o.action for o in result.objects}
    assert actions[("Secret", "acme-secrets")] == "configured"
    assert actions[("Deployment", "acme-odoo")] == "configured"
    assert actions[("PersistentVolumeClaim", "acme-filestore")] == "created"
    assert actions[("Service", "acme-odoo")] == "unchanged"


def test_an_object_that_left_the_manifests_is_pruned_without_a_list(
    kube_api, kube_client, deployed
):
    docs, inventory = deployed
    without_ingress = [d for d in docs if d["kind"] != "Ingress"]
    result = apply_app(kube_client, "acme", NS, without_ingress, inventory=inventory)

    assert [
        (o.kind, o.name, o.action) for o in result.objects if o.action == "pruned"
    ] == [("Ingress", "acme", "pruned")]
    assert kube_api.get_object("networking.k8s.io/v1", "Ingress", "acme", NS) is None
    sent = api_requests(kube_api)
    gets = [r for r in sent if r.method == "GET"]
    assert [r.path for r in gets] == ["/api/v1/namespaces/acme"], "no LIST"
    assert len(sent) == len(without_ingress) + 1 + 1  # namespace, applies, DELETE
    # The new inventory no longer holds it: the next run prunes nothing.
    again = apply_app(
        kube_client, "acme", NS, without_ingress, inventory=result.inventory()
    )
    assert "pruned" not in again.counts()


def test_prune_from_the_inventory_never_touches_another_app(
    kube_api, kube_client, deployed
):
    docs, inventory = deployed
    other = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "acme-int-settings"},
    }
    assert apply_app(kube_client, "acme-int", NS, [other]).ok
    elsewhere = copy.deepcopy(other)
    elsewhere["metadata"]["name"] = "acme-settings"
    assert apply_app(kube_client, "acme", "globex", [elsewhere]).ok
    # An inventory that (wrongly) names objects outside the app's namespace
    # prunes nothing there.
    foreign = inventory + [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "namespace": "globex",
            "name": "acme-settings",
            "uid": "x",
            "resourceVersion": "1",
        }
    ]
    result = apply_app(kube_client, "acme", NS, docs, inventory=foreign)
    assert "pruned" not in result.counts()
    assert kube_api.get_object("v1", "ConfigMap", "acme-int-settings", NS)
    assert kube_api.get_object("v1", "ConfigMap", "acme-settings", "globex")


def test_an_inventory_from_a_failed_run_holds_only_what_was_applied(
    kube_api, kube_client
):
    docs = demo_docs()
    unknown = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
    }
    first = apply_app(kube_client, "acme", NS, docs + [unknown])
    assert not first.ok and first.prune_skipped
    inventory = first.inventory()
    assert "Widget" not in {e["kind"] for e in inventory}
    assert len(inventory) == len(docs) + 1
    # The next run with it changes nothing and prunes nothing.
    result = apply_app(kube_client, "acme", NS, docs, inventory=inventory)
    assert result.ok and result.counts() == {"unchanged": len(docs) + 1}


def test_a_dry_run_ignores_the_inventory(kube_api, kube_client, deployed):
    docs, inventory = deployed
    result = apply_app(kube_client, "acme", NS, docs, dry_run=True, inventory=inventory)
    assert result.dry_run and result.ok
    assert any(r.method == "GET" for r in api_requests(kube_api)), "reads as before"
    assert all(
        r.query.get("dryRun") == "All" for r in kube_api.requests if r.method == "PATCH"
    )


def test_index_inventory():
    assert index_inventory(None) is None
    index = index_inventory(
        [
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "namespace": "a",
                "name": "x",
            },
            {"apiVersion": "v1", "kind": "", "name": "broken"},
        ]
    )
    assert list(index) == [("apps", "Deployment", "a", "x")]


def test_labels_still_mark_every_object(kube_api, kube_client, deployed):
    docs, inventory = deployed
    apply_app(kube_client, "acme", NS, docs, inventory=inventory)
    labelled = kube_api.list_objects(label_selector=f"{APP_LABEL}=acme")
    assert len(labelled) == len(docs)
