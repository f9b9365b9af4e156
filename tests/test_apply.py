"""apply_app / delete_app against the fake Kubernetes API server."""

import copy
import json

import pytest
from kubernetes.client.rest import ApiException
from kubernetes.dynamic import DynamicClient

from mintcloud import apply as apply_module
from mintcloud.apply import (
    APP_LABEL,
    DEFAULT_PRUNE_KINDS,
    FIELD_MANAGER,
    MANAGED_BY_LABEL,
    RETAIN_LABEL,
    ApplyResult,
    ObjectResult,
    apply_app,
    delete_app,
    delete_namespace,
    label_documents,
)
from mintcloud.errors import KubeTransientError, PermanentError
from mintcloud.kube import api_client
from mintcloud.tenancy import TenancyError

NS = "acme"
MINE = f"{APP_LABEL}=acme,{RETAIN_LABEL}!=true"


def odoo_docs(prefix="odoo", host="acme.mint-cloud.ch"):
    """The kind of documents the Odoo manifests render to, in manifest order."""
    selector = {"app.kubernetes.io/name": prefix}
    pod = {
        "metadata": {"labels": dict(selector)},
        "spec": {"containers": [{"name": "odoo", "image": "odoo:17.0"}]},
    }
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": prefix}},
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": f"{prefix}-config"},
            "data": {"odoo.conf": "[options]\nworkers = 2\n"},
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": f"{prefix}-db"},
            "stringData": {"password": "not-a-real-password"},
        },
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": f"{prefix}-data"},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "5Gi"}},
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": prefix},
            "spec": {
                "selector": dict(selector),
                "ports": [{"name": "http", "port": 8069}],
            },
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": prefix},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": dict(selector)},
                "template": copy.deepcopy(pod),
            },
        },
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": f"{prefix}-init"},
            "spec": {
                "template": {
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [{"name": "init", "image": "odoo:17.0"}],
                    }
                }
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": prefix},
            "spec": {
                "ingressClassName": "nginx",
                "rules": [
                    {
                        "host": host,
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {
                                        "service": {
                                            "name": prefix,
                                            "port": {"number": 8069},
                                        }
                                    },
                                }
                            ]
                        },
                    }
                ],
                "tls": [{"hosts": [host], "secretName": f"{prefix}-tls"}],
            },
        },
    ]


def stored(kube_api, selector=MINE, namespace=NS):
    """{(kind, name)} of the stored objects matching the selector."""
    return sorted(
        (o["kind"], o["metadata"]["name"])
        for o in kube_api.list_objects(namespace=namespace, label_selector=selector)
    )


def actions(result):
    return {(o.kind, o.name): o.action for o in result.objects}


# --- label_documents (pure) ---------------------------------------------------


def test_label_documents_labels_metadata_and_pod_templates_but_not_selectors():
    docs = odoo_docs()
    cron = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "backup"},
        "spec": {
            "schedule": "0 2 * * *",
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {"containers": [{"name": "b", "image": "odoo:17.0"}]}
                    }
                }
            },
        },
    }
    original = copy.deepcopy(docs + [cron])
    labelled = label_documents(docs + [None, cron], "acme")

    assert docs + [cron] == original  # inputs untouched
    assert len(labelled) == len(docs) + 1  # the empty document is dropped
    want = {APP_LABEL: "acme", MANAGED_BY_LABEL: "mint-cloud"}
    for doc in labelled:
        assert doc["metadata"]["labels"].items() >= want.items()
    deploy = next(d for d in labelled if d["kind"] == "Deployment")
    assert deploy["spec"]["template"]["metadata"]["labels"] == {
        "app.kubernetes.io/name": "odoo",
        **want,
    }
    assert deploy["spec"]["selector"] == {
        "matchLabels": {"app.kubernetes.io/name": "odoo"}
    }
    job = next(d for d in labelled if d["kind"] == "Job")
    assert (
        job["spec"]["template"]["metadata"]["labels"] == want
    )  # template had no metadata
    cron = labelled[-1]
    assert cron["spec"]["jobTemplate"]["metadata"]["labels"] == want
    assert cron["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"] == want
    service = next(d for d in labelled if d["kind"] == "Service")
    assert service["spec"]["selector"] == {"app.kubernetes.io/name": "odoo"}


def test_label_documents_keeps_existing_labels_and_overrides_a_wrong_app():
    doc = {
        "kind": "ConfigMap",
        "metadata": {"name": "x", "labels": {"tier": "web", APP_LABEL: "other"}},
    }
    (out,) = label_documents([doc], "acme")
    assert out["metadata"]["labels"] == {
        "tier": "web",
        APP_LABEL: "acme",
        MANAGED_BY_LABEL: "mint-cloud",
    }


def test_apply_result_helpers():
    result = ApplyResult(
        objects=[
            ObjectResult("ConfigMap", "a", NS, "v1", "created"),
            ObjectResult(
                "ConfigMap", "b", NS, "v1", "failed", "ConfigMap acme/b: boom"
            ),
            ObjectResult("ConfigMap", "c", NS, "v1", "created"),
        ]
    )
    assert result.ok is False
    assert result.counts() == {"created": 2, "failed": 1}
    assert result.errors == ["ConfigMap acme/b: boom"]
    assert ApplyResult().ok is True


# --- apply --------------------------------------------------------------------


def test_apply_creates_namespace_then_objects_in_manifest_order(kube_api, kube_client):
    docs = odoo_docs()
    result = apply_app(kube_client, "acme", NS, docs)

    assert result.ok, result.errors
    assert [(o.kind, o.name, o.action) for o in result.objects] == (
        [("Namespace", NS, "created")]
        + [(d["kind"], d["metadata"]["name"], "created") for d in docs]
    )
    assert all(o.namespace == NS for o in result.objects[1:])
    ns = kube_api.get_object("v1", "Namespace", NS)
    assert ns["metadata"]["labels"][MANAGED_BY_LABEL] == "mint-cloud"
    # On the wire: namespace POST first, then one apply PATCH per document, in order.
    writes = [r for r in kube_api.requests if r.method in ("POST", "PATCH")]
    assert writes[0].method == "POST" and writes[0].path == "/api/v1/namespaces"
    patches = writes[1:]
    assert [p.path.rsplit("/", 1)[1] for p in patches] == [
        d["metadata"]["name"] for d in docs
    ]
    assert all(p.content_type == "application/apply-patch+yaml" for p in patches)
    assert all(p.query.get("fieldManager") == FIELD_MANAGER for p in patches)
    assert all(p.query.get("force", "false").lower() == "false" for p in patches)
    # Labels on every object and on the pod template; the selector is untouched.
    deploy = kube_api.get_object("apps/v1", "Deployment", "odoo", NS)
    assert deploy["metadata"]["labels"][APP_LABEL] == "acme"
    assert deploy["spec"]["template"]["metadata"]["labels"][APP_LABEL] == "acme"
    assert deploy["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "odoo"
    }
    assert len(stored(kube_api)) == len(docs)
    managers = {m["manager"] for m in deploy["metadata"]["managedFields"]}
    assert managers == {FIELD_MANAGER}


def test_second_identical_apply_changes_nothing(kube_api, kube_client):
    apply_app(kube_client, "acme", NS, odoo_docs())
    before = {
        o["metadata"]["name"] + o["kind"]: o["metadata"]["resourceVersion"]
        for o in kube_api.list_objects(namespace=NS)
    }

    result = apply_app(kube_client, "acme", NS, odoo_docs())

    assert result.counts() == {"unchanged": len(odoo_docs()) + 1}
    after = {
        o["metadata"]["name"] + o["kind"]: o["metadata"]["resourceVersion"]
        for o in kube_api.list_objects(namespace=NS)
    }
    assert after == before


def test_changed_document_is_configured(kube_api, kube_client):
    apply_app(kube_client, "acme", NS, odoo_docs())
    docs = odoo_docs()
    docs[1]["data"]["odoo.conf"] = "[options]\nworkers = 4\n"

    result = apply_app(kube_client, "acme", NS, docs)

    assert actions(result)[("ConfigMap", "odoo-config")] == "configured"
    assert result.counts() == {"configured": 1, "unchanged": len(docs)}
    cm = kube_api.get_object("v1", "ConfigMap", "odoo-config", NS)
    assert cm["data"]["odoo.conf"].endswith("workers = 4\n")


def test_removed_document_is_pruned_with_one_list_per_kind(kube_api, kube_client):
    apply_app(kube_client, "acme", NS, odoo_docs())
    docs = [d for d in odoo_docs() if d["kind"] not in ("Job", "Secret")]
    kube_api.reset_requests()

    result = apply_app(kube_client, "acme", NS, docs)

    assert result.ok
    assert {k: a for k, a in actions(result).items() if a == "pruned"} == {
        ("Secret", "odoo-db"): "pruned",
        ("Job", "odoo-init"): "pruned",
    }
    assert ("Job", "odoo-init") not in stored(kube_api)
    assert kube_api.get_object("v1", "Secret", "odoo-db", NS) is None
    lists = [
        r
        for r in kube_api.requests
        if r.method == "GET" and r.query.get("labelSelector")
    ]
    assert len(lists) == len(DEFAULT_PRUNE_KINDS)
    assert all(
        r.query["labelSelector"] == MINE and f"/namespaces/{NS}/" in r.path
        for r in lists
    )
    deletes = [r for r in kube_api.requests if r.method == "DELETE"]
    assert len(deletes) == 2
    assert all(r.query.get("propagationPolicy") == "Background" for r in deletes)


def test_objects_of_another_app_in_the_same_namespace_survive(kube_api, kube_client):
    apply_app(kube_client, "acme", NS, odoo_docs())
    apply_app(
        kube_client, "acme-int", NS, odoo_docs("odoo-int", "acme-int.mint-cloud.ch")
    )
    n = len(odoo_docs())

    result = apply_app(kube_client, "acme", NS, odoo_docs()[:2])  # prod shrinks

    assert result.counts() == {"unchanged": 3, "pruned": n - 2}
    assert len(stored(kube_api)) == 2
    assert len(stored(kube_api, f"{APP_LABEL}=acme-int")) == n
    pruned = [o for o in result.objects if o.action == "pruned"]
    assert all(not o.name.startswith("odoo-int") for o in pruned)

    # Removing every document of prod leaves int alone.
    result = apply_app(kube_client, "acme", NS, [])
    assert result.counts() == {"unchanged": 1, "pruned": 2}
    assert stored(kube_api) == []
    assert len(stored(kube_api, f"{APP_LABEL}=acme-int")) == n


def test_unlabelled_objects_in_the_namespace_are_never_pruned(kube_api, kube_client):
    apply_app(kube_client, "acme", NS, odoo_docs())
    dyn = DynamicClient(kube_client)
    foreign = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "kube-root-ca.crt"},
    }
    dyn.resources.get(api_version="v1", kind="ConfigMap").create(
        body=foreign, namespace=NS
    )

    apply_app(kube_client, "acme", NS, [])

    assert kube_api.get_object("v1", "ConfigMap", "kube-root-ca.crt", NS) is not None
    assert kube_api.get_object("v1", "Namespace", NS) is not None  # never pruned


def test_jobs_owned_by_a_cronjob_are_left_to_their_owner(kube_api, kube_client):
    cron = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "backup"},
        "spec": {
            "schedule": "0 2 * * *",
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [{"name": "b", "image": "odoo:17.0"}],
                        }
                    }
                }
            },
        },
    }
    apply_app(kube_client, "acme", NS, [cron])
    owner = kube_api.get_object("batch/v1", "CronJob", "backup", NS)
    spawned = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": "backup-28585320",
            "labels": {APP_LABEL: "acme"},
            "ownerReferences": [
                {
                    "apiVersion": "batch/v1",
                    "kind": "CronJob",
                    "name": "backup",
                    "uid": owner["metadata"]["uid"],
                    "controller": True,
                }
            ],
        },
        "spec": cron["spec"]["jobTemplate"]["spec"],
    }
    DynamicClient(kube_client).resources.get(api_version="batch/v1", kind="Job").create(
        body=spawned, namespace=NS
    )

    result = apply_app(kube_client, "acme", NS, [cron])

    assert result.counts() == {"unchanged": 2}
    assert kube_api.get_object("batch/v1", "Job", "backup-28585320", NS) is not None


def test_existing_namespace_is_left_as_it_is(kube_api, kube_client):
    DynamicClient(kube_client).resources.get(api_version="v1", kind="Namespace").create(
        body={"metadata": {"name": NS, "labels": {"team": "ops"}}}
    )

    result = apply_app(kube_client, "acme", NS, odoo_docs()[:1])

    ns = result.objects[0]
    assert (ns.kind, ns.name, ns.namespace, ns.api_version, ns.action) == (
        "Namespace",
        NS,
        None,
        "v1",
        "unchanged",
    )
    assert ns.uid == kube_api.get_object("v1", "Namespace", NS)["metadata"]["uid"]
    labels = kube_api.get_object("v1", "Namespace", NS)["metadata"]["labels"]
    assert MANAGED_BY_LABEL not in labels and labels["team"] == "ops"


def test_prune_false_keeps_removed_documents(kube_api, kube_client):
    apply_app(kube_client, "acme", NS, odoo_docs())
    result = apply_app(kube_client, "acme", NS, odoo_docs()[:1], prune=False)
    assert "pruned" not in result.counts()
    assert len(stored(kube_api)) == len(odoo_docs())


def test_prune_kinds_limit_what_is_pruned(kube_api, kube_client):
    apply_app(kube_client, "acme", NS, odoo_docs())
    kube_api.reset_requests()
    keep_only_service = [d for d in odoo_docs() if d["kind"] == "Service"]

    result = apply_app(
        kube_client,
        "acme",
        NS,
        keep_only_service,
        prune_kinds=["ConfigMap", ("policy/v1", "PodDisruptionBudget")],
    )

    # ConfigMap pruned; PodDisruptionBudget not served (skipped); Service rendered.
    assert [(o.kind, o.name) for o in result.objects if o.action == "pruned"] == [
        ("ConfigMap", "odoo-config")
    ]
    lists = [
        r
        for r in kube_api.requests
        if r.method == "GET" and r.query.get("labelSelector")
    ]
    assert sorted(r.path.rsplit("/", 1)[1] for r in lists) == ["configmaps", "services"]
    with pytest.raises(ValueError, match="needs an apiVersion"):
        apply_app(kube_client, "acme", NS, [], prune_kinds=["Widget"])


def test_documents_outside_the_namespace_are_refused_before_any_write(
    kube_api, kube_client
):
    docs = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ok"}},
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": "acme-extra", "namespace": "x"},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "other-customer"},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "acme-admin"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "cluster-admin",
            },
            "subjects": [
                {"kind": "ServiceAccount", "name": "default", "namespace": NS}
            ],
        },
    ]
    kube_api.reset_requests()
    with pytest.raises(TenancyError) as info:
        apply_app(kube_client, "acme", NS, docs)

    problems = info.value.problems
    assert problems == [
        "document 2 (Namespace/acme-extra): kind: Namespace is cluster-scoped; "
        f"an app may only create objects in its namespace {NS!r}",
        "document 3 (ConfigMap/c): metadata.namespace: 'other-customer' is not "
        f"the app's namespace {NS!r}",
        "document 4 (ClusterRoleBinding/acme-admin): kind: "
        "rbac.authorization.k8s.io/ClusterRoleBinding is cluster-scoped; "
        f"an app may only create objects in its namespace {NS!r}",
    ]
    assert isinstance(info.value, PermanentError)
    writes = [r for r in kube_api.requests if r.method not in ("GET", "HEAD")]
    assert writes == []
    assert kube_api.list_objects(kind="ConfigMap") == []


def test_the_apps_own_namespace_document_is_applied(kube_api, kube_client):
    docs = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": NS, "namespace": "x"},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": NS},
        },
    ]
    result = apply_app(kube_client, "acme", NS, docs)

    assert result.ok, result.errors
    assert [(o.kind, o.namespace) for o in result.objects[1:]] == [
        ("Namespace", None),
        ("ConfigMap", NS),
    ]
    assert apply_app(kube_client, "acme", NS, docs).counts() == {"unchanged": 3}


# --- dry run ------------------------------------------------------------------


def test_dry_run_on_an_empty_cluster_stores_nothing(kube_api, kube_client):
    result = apply_app(kube_client, "acme", NS, odoo_docs(), dry_run=True)

    assert result.ok and result.dry_run
    assert result.counts() == {"created": len(odoo_docs()) + 1}
    assert kube_api.get_object("v1", "Namespace", NS) is None
    assert kube_api.list_objects(label_selector=APP_LABEL) == []
    posts = [r for r in kube_api.requests if r.method == "POST"]
    assert [r.query.get("dryRun") for r in posts] == ["All"]
    assert not [r for r in kube_api.requests if r.method in ("PATCH", "DELETE")]


def test_dry_run_reports_changes_and_prunes_without_doing_them(kube_api, kube_client):
    apply_app(kube_client, "acme", NS, odoo_docs())
    docs = [d for d in odoo_docs() if d["kind"] != "Secret"]
    docs[1]["data"]["odoo.conf"] = "changed"
    kube_api.reset_requests()

    result = apply_app(kube_client, "acme", NS, docs, dry_run=True)

    got = actions(result)
    assert got[("ConfigMap", "odoo-config")] == "configured"
    assert got[("Secret", "odoo-db")] == "pruned"
    assert got[("Deployment", "odoo")] == "unchanged"
    patches = [r for r in kube_api.requests if r.method == "PATCH"]
    assert patches and all(r.query.get("dryRun") == "All" for r in patches)
    assert not [r for r in kube_api.requests if r.method == "DELETE"]
    assert (
        kube_api.get_object("v1", "ConfigMap", "odoo-config", NS)["data"]["odoo.conf"]
        != "changed"
    )
    assert kube_api.get_object("v1", "Secret", "odoo-db", NS) is not None


# --- permanent errors per object ----------------------------------------------


def _take_over(kube_client, name, value, manager="ops"):
    """Another field manager applies (forced) a different value of a ConfigMap key."""
    resource = DynamicClient(kube_client).resources.get(
        api_version="v1", kind="ConfigMap"
    )
    resource.server_side_apply(
        body={
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name},
            "data": {"odoo.conf": value},
        },
        namespace=NS,
        field_manager=manager,
        force_conflicts=True,
    )


def test_conflict_with_another_manager_fails_the_object_and_skips_prune(
    kube_api, kube_client
):
    apply_app(kube_client, "acme", NS, odoo_docs())
    _take_over(kube_client, "odoo-config", "[options]\nworkers = 8\n")
    docs = [d for d in odoo_docs() if d["kind"] != "Job"]  # the Job would be pruned
    docs[1]["data"]["odoo.conf"] = "[options]\nworkers = 3\n"

    result = apply_app(kube_client, "acme", NS, docs)

    assert result.ok is False and result.prune_skipped
    failed = [o for o in result.objects if o.action == "failed"]
    assert [(o.kind, o.name) for o in failed] == [("ConfigMap", "odoo-config")]
    assert failed[0].message == (
        "ConfigMap acme/odoo-config: Apply failed with 1 conflict: "
        'conflict with "ops": .data.odoo.conf'
    )
    assert result.errors == [failed[0].message]
    # The other objects were still applied, nothing was pruned, the value stays.
    assert actions(result)[("Deployment", "odoo")] == "unchanged"
    assert kube_api.get_object("batch/v1", "Job", "odoo-init", NS) is not None
    cm = kube_api.get_object("v1", "ConfigMap", "odoo-config", NS)
    assert cm["data"]["odoo.conf"] == "[options]\nworkers = 8\n"
    assert not [
        r
        for r in kube_api.requests
        if r.method == "PATCH"
        and r.query.get("force") == "true"
        and r.query.get("fieldManager") == FIELD_MANAGER
    ]


def test_unknown_kind_is_a_permanent_failure_of_that_object(kube_api, kube_client):
    widget = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
    }
    docs = odoo_docs()[:2] + [widget]

    result = apply_app(kube_client, "acme", NS, docs)

    assert actions(result)[("Widget", "w")] == "failed"
    assert result.errors == [
        "Widget (example.com/v1): unknown kind Widget in apiVersion example.com/v1"
    ]
    assert result.prune_skipped and len(stored(kube_api)) == 2


def test_invalid_object_422_is_reported_and_the_rest_applied(kube_api, kube_client):
    docs = odoo_docs()
    docs[1]["metadata"]["name"] = "Odoo_Config"  # not a DNS subdomain

    result = apply_app(kube_client, "acme", NS, docs)

    assert actions(result)[("ConfigMap", "Odoo_Config")] == "failed"
    (message,) = result.errors
    assert message.startswith(
        'ConfigMap acme/Odoo_Config: ConfigMap "Odoo_Config" is invalid'
    )
    assert len(stored(kube_api)) == len(docs) - 1


def test_document_without_name_fails(kube_api, kube_client):
    result = apply_app(
        kube_client,
        "acme",
        NS,
        [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}],
    )
    assert result.errors == [
        "ConfigMap : apiVersion, kind and metadata.name are required"
    ]


def test_invalid_namespace_fails_the_run_before_any_object(kube_api, kube_client):
    result = apply_app(kube_client, "acme", "Not_A_Namespace", odoo_docs())

    assert result.ok is False and result.prune_skipped
    assert len(result.objects) == 1 and result.objects[0].kind == "Namespace"
    assert "is invalid" in result.errors[0]
    assert not [r for r in kube_api.requests if r.method == "PATCH"]


# --- transient faults: abort, then converge -----------------------------------


@pytest.mark.parametrize("fault", [500, 503, 429, "reset"])
def test_transient_fault_aborts_and_the_next_run_converges(
    kube_api, kube_client, fault
):
    docs = odoo_docs()
    kube_api.inject_fault(fault, method="PATCH", path_contains="/deployments/")

    with pytest.raises(KubeTransientError) as info:
        apply_app(kube_client, "acme", NS, docs)

    assert str(info.value).startswith("Deployment acme/odoo: ")
    if fault == 429:
        assert info.value.status == 429 and info.value.details["retry_after"] == 1
    # Objects before the Deployment were applied, none after it.
    assert len(stored(kube_api)) == 5
    result = apply_app(kube_client, "acme", NS, docs)
    assert result.ok
    assert result.counts() == {"unchanged": 6, "created": 3}
    assert len(stored(kube_api)) == len(docs)
    assert len(kube_api.list_objects(kind="Deployment")) == 1


def test_slow_server_times_out_and_the_next_run_converges(kube_api):
    client = api_client(host=kube_api.url, timeout=0.3)
    docs = odoo_docs()
    kube_api.inject_fault(
        "slow", method="PATCH", path_contains="/configmaps/", delay=0.8
    )

    with pytest.raises(
        KubeTransientError, match="ConfigMap acme/odoo-config: the API server timed out"
    ):
        apply_app(client, "acme", NS, docs)

    result = apply_app(client, "acme", NS, docs)
    assert result.ok
    assert len(stored(kube_api)) == len(docs)
    assert len(kube_api.list_objects(kind="ConfigMap", namespace=NS)) == 1


def test_fault_during_prune_aborts_and_the_next_run_finishes_it(kube_api, kube_client):
    apply_app(kube_client, "acme", NS, odoo_docs())
    kube_api.inject_fault(503, method="DELETE")

    with pytest.raises(KubeTransientError, match="currently unable"):
        apply_app(kube_client, "acme", NS, odoo_docs()[:3])

    result = apply_app(kube_client, "acme", NS, odoo_docs()[:3])
    assert result.ok
    assert len(stored(kube_api)) == 3


def test_unreachable_server_is_transient():
    client = api_client(host="http://127.0.0.1:9", timeout=1)
    with pytest.raises(KubeTransientError, match="cannot reach the API server"):
        apply_app(client, "acme", NS, odoo_docs())


# --- delete_app ---------------------------------------------------------------


def test_delete_app_removes_only_that_app(kube_api, kube_client):
    apply_app(kube_client, "acme", NS, odoo_docs())
    apply_app(
        kube_client, "acme-int", NS, odoo_docs("odoo-int", "acme-int.mint-cloud.ch")
    )

    dry = delete_app(kube_client, "acme-int", NS, dry_run=True)
    assert dry.counts() == {"pruned": len(odoo_docs())}
    assert len(stored(kube_api, f"{APP_LABEL}=acme-int")) == len(odoo_docs())

    result = delete_app(kube_client, "acme-int", NS)

    assert result.ok and result.counts() == {"pruned": len(odoo_docs())}
    assert stored(kube_api, f"{APP_LABEL}=acme-int") == []
    assert len(stored(kube_api)) == len(odoo_docs())
    assert kube_api.get_object("v1", "Namespace", NS) is not None
    assert delete_app(kube_client, "acme-int", NS).counts() == {}


def test_invalid_selector_is_a_permanent_failure_of_the_prune(kube_api, kube_client):
    result = delete_app(kube_client, "bad app", NS, kinds=["ConfigMap"])

    assert result.ok is False
    (failed,) = result.objects
    assert (failed.kind, failed.name, failed.action) == ("ConfigMap", None, "failed")
    assert failed.message.startswith("list ConfigMap in acme: ")


def _status_error(status, reason, message):
    exc = ApiException(status=status, reason=reason)
    exc.body = json.dumps(
        {"kind": "Status", "status": "Failure", "reason": reason, "message": message}
    )
    return exc


@pytest.mark.parametrize(
    "status, reason, action",
    [(403, "Forbidden", "failed"), (404, "NotFound", "pruned")],
)
def test_delete_errors_during_prune(
    kube_api, kube_client, monkeypatch, status, reason, action
):
    apply_app(kube_client, "acme", NS, odoo_docs()[:2])

    def refuse(self, resource, name=None, namespace=None, **kwargs):
        raise _status_error(status, reason, f'configmaps "{name}" is {reason.lower()}')

    monkeypatch.setattr(DynamicClient, "delete", refuse)
    result = apply_app(kube_client, "acme", NS, odoo_docs()[:1])

    (pruned,) = [o for o in result.objects if o.kind == "ConfigMap"]
    assert pruned.action == action
    if action == "failed":
        assert pruned.message == (
            'ConfigMap acme/odoo-config: configmaps "odoo-config" is forbidden'
        )
        assert result.ok is False


def test_namespace_created_meanwhile_counts_as_unchanged(
    kube_api, kube_client, monkeypatch
):
    DynamicClient(kube_client).resources.get(api_version="v1", kind="Namespace").create(
        body={"metadata": {"name": NS}}
    )
    real = apply_module.get_object

    def not_seen_yet(dyn, resource, name, namespace=None):
        return (
            None
            if resource.kind == "Namespace"
            else real(dyn, resource, name, namespace)
        )

    monkeypatch.setattr(apply_module, "get_object", not_seen_yet)
    result = apply_app(kube_client, "acme", NS, odoo_docs()[:1])

    assert [o.action for o in result.objects] == ["unchanged", "created"]
    assert [r.method for r in kube_api.requests].count("POST") == 2  # 409, then the SA


def test_cronjob_without_job_template_is_labelled_at_the_top_only():
    (doc,) = label_documents(
        [{"kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": []}}],
        "a",
    )
    assert doc["metadata"]["labels"][APP_LABEL] == "a"
    assert doc["spec"]["jobTemplate"] == []


def test_action_ignores_status_writes_of_controllers():
    before = {"metadata": {"name": "odoo", "resourceVersion": "5"}, "spec": {"a": 1}}
    after = copy.deepcopy(before)
    after["metadata"]["resourceVersion"] = "6"
    after["status"] = {"readyReplicas": 1}  # the controller wrote meanwhile
    assert apply_module._action(before, after, dry_run=False) == "unchanged"
    after["spec"]["a"] = 2
    assert apply_module._action(before, after, dry_run=False) == "configured"
    # A dry run keeps the old resourceVersion even when something would change.
    after["metadata"]["resourceVersion"] = "5"
    assert apply_module._action(before, after, dry_run=True) == "configured"
    assert apply_module._action(None, after, dry_run=True) == "created"


def test_retained_objects_outlive_prune_and_delete(kube_api, kube_client):
    kept = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "backup-index", "labels": {RETAIN_LABEL: "true"}},
    }
    other = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "gone"}}
    assert apply_app(kube_client, "acme", NS, [kept, other]).ok
    apply_app(kube_client, "acme", NS, [])  # nothing rendered: prune
    assert kube_api.get_object("v1", "ConfigMap", "backup-index", NS) is not None
    assert kube_api.get_object("v1", "ConfigMap", "gone", NS) is None
    assert apply_app(kube_client, "acme", NS, [other]).ok
    result = delete_app(kube_client, "acme", NS)
    assert [(o.name, o.action) for o in result.objects] == [("gone", "pruned")]
    assert kube_api.get_object("v1", "ConfigMap", "backup-index", NS) is not None


def test_delete_namespace(kube_api, kube_client):
    assert apply_app(kube_client, "acme", NS, odoo_docs()).ok
    assert delete_namespace(kube_client, NS) is True
    assert kube_api.get_object("v1", "Namespace", NS) is None
    assert kube_api.list_objects(namespace=NS) == []
    assert delete_namespace(kube_client, NS) is False
