"""The tenant boundary of an app (mintcloud.tenancy) and prune/delete staying inside it."""

import pytest

from mintcloud.apply import APP_LABEL, RETAIN_LABEL, apply_app, delete_app
from mintcloud.errors import PermanentError
from mintcloud.tenancy import (
    CLUSTER_SCOPED,
    DEFAULT_ALLOWED_KINDS,
    TenancyError,
    TenantPolicy,
    check_tenancy,
    parse_cluster_roles,
    parse_kinds,
    scope_problems,
    tenancy_problems,
)

NS = "acme"
POLICY = TenantPolicy(NS)


def doc(kind, name="x", api_version="v1", namespace=None, **extra):
    metadata = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, **extra}


def binding(role_kind, role_name, name="b"):
    return doc(
        "RoleBinding",
        name,
        "rbac.authorization.k8s.io/v1",
        roleRef={
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": role_kind,
            "name": role_name,
        },
        subjects=[{"kind": "ServiceAccount", "name": "default", "namespace": NS}],
    )


def problems(*docs, policy=POLICY, manifest="Demo: Odoo"):
    return tenancy_problems([(manifest, list(docs))], policy)


# --- what passes ---------------------------------------------------------------


def test_the_demo_kinds_in_the_apps_namespace_pass():
    docs = [
        doc("Secret", "s"),
        doc("PersistentVolumeClaim", "p", namespace=NS),
        doc("StatefulSet", "db", "apps/v1"),
        doc("Deployment", "odoo", "apps/v1", namespace=NS),
        doc("Service", "odoo"),
        doc("Ingress", "odoo", "networking.k8s.io/v1"),
        doc("Job", "reset", "batch/v1"),
        doc("Namespace", NS),
        binding("Role", "app-reader"),
        binding("ClusterRole", "view"),
        binding("ClusterRole", "edit"),
    ]
    assert problems(*docs) == []
    check_tenancy([("m", docs)], POLICY)  # no exception


# --- each rule, with the manifest, the document and the field ----------------


def test_foreign_namespace_is_named_with_manifest_document_and_field():
    found = problems(doc("Secret", "s"), doc("ConfigMap", "c", namespace="globex"))
    assert found == [
        "manifest 'Demo: Odoo', document 2 (ConfigMap/c): metadata.namespace: "
        "'globex' is not the app's namespace 'acme'"
    ]


def test_another_namespace_object_is_refused():
    assert problems(doc("Namespace", "globex")) == [
        "manifest 'Demo: Odoo', document 1 (Namespace/globex): metadata.name: "
        "the Namespace 'globex' is not the app's own namespace 'acme'"
    ]


@pytest.mark.parametrize(
    "api_version, kind",
    [
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
        ("rbac.authorization.k8s.io/v1", "ClusterRole"),
        ("v1", "PersistentVolume"),
        ("storage.k8s.io/v1", "StorageClass"),
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
        ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration"),
        ("cert-manager.io/v1", "ClusterIssuer"),
    ],
)
def test_cluster_scoped_kinds_are_refused(api_version, kind):
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    entry = f"{group}/{kind}" if group else kind
    assert problems(doc(kind, "x", api_version)) == [
        f"manifest 'Demo: Odoo', document 1 ({kind}/x): kind: {entry} is "
        "cluster-scoped; an app may only create objects in its namespace 'acme'"
    ]


def test_listing_a_cluster_scoped_kind_as_allowed_does_not_allow_it():
    policy = TenantPolicy(
        NS,
        allowed_kinds=DEFAULT_ALLOWED_KINDS
        + ("rbac.authorization.k8s.io/ClusterRoleBinding",),
    )
    found = problems(
        doc("ClusterRoleBinding", "x", "rbac.authorization.k8s.io/v1"), policy=policy
    )
    assert len(found) == 1 and "cluster-scoped" in found[0]


def test_a_kind_outside_the_allowed_kinds_is_refused():
    found = problems(
        doc("Certificate", "tls", "cert-manager.io/v1"),
        doc("DaemonSet", "d", "apps/v1"),
    )
    assert found == [
        "manifest 'Demo: Odoo', document 1 (Certificate/tls): kind: "
        "cert-manager.io/Certificate is not among the cluster's allowed kinds "
        "(Kubernetes > Clusters, Allowed Kinds)",
        "manifest 'Demo: Odoo', document 2 (DaemonSet/d): kind: apps/DaemonSet is "
        "not among the cluster's allowed kinds (Kubernetes > Clusters, Allowed Kinds)",
    ]
    policy = TenantPolicy(
        NS, allowed_kinds=DEFAULT_ALLOWED_KINDS + ("cert-manager.io/Certificate",)
    )
    assert (
        problems(doc("Certificate", "tls", "cert-manager.io/v1"), policy=policy) == []
    )


def test_a_kind_is_matched_with_its_group():
    # A Deployment of another API group is another kind.
    found = problems(doc("Deployment", "d", "example.com/v1"))
    assert found and "example.com/Deployment is not among" in found[0]


@pytest.mark.parametrize("role", ["cluster-admin", "admin", "system:node"])
def test_role_binding_to_a_powerful_cluster_role_is_refused(role):
    assert problems(binding("ClusterRole", role)) == [
        "manifest 'Demo: Odoo', document 1 (RoleBinding/b): roleRef.name: binds "
        f"the ClusterRole {role!r}; a RoleBinding of an app may bind a Role of its "
        "namespace or the ClusterRoles view, edit"
    ]


def test_cluster_role_allowlist_is_configurable():
    policy = TenantPolicy(NS, allowed_cluster_roles=("view",))
    assert problems(binding("ClusterRole", "view"), policy=policy) == []
    assert problems(binding("ClusterRole", "edit"), policy=policy)
    none = TenantPolicy(NS, allowed_cluster_roles=())
    assert (
        "the ClusterRoles none"
        in problems(binding("ClusterRole", "view"), policy=none)[0]
    )


def test_every_problem_is_reported_and_document_indexes_count_per_manifest():
    sources = [
        ("secrets", [doc("Secret", "a"), doc("Secret", "b", namespace="x")]),
        ("rbac", [doc("ClusterRole", "r", "rbac.authorization.k8s.io/v1")]),
    ]
    found = tenancy_problems(sources, POLICY)
    assert [p.split(":")[0] for p in found] == [
        "manifest 'secrets', document 2 (Secret/b)",
        "manifest 'rbac', document 1 (ClusterRole/r)",
    ]
    with pytest.raises(TenancyError) as info:
        check_tenancy(sources, POLICY)
    assert isinstance(info.value, PermanentError)
    assert info.value.problems == found
    assert "2 object(s) outside the app's tenant boundary, nothing applied" in str(
        info.value
    )


def test_several_problems_of_one_document():
    found = problems(doc("DaemonSet", "d", "apps/v1", namespace="globex"))
    prefix = "manifest 'Demo: Odoo', document 1 (DaemonSet/d): "
    assert [p.removeprefix(prefix).split(":")[0] for p in found] == [
        "kind",
        "metadata.namespace",
    ]


def test_cluster_scoped_table_has_no_namespaced_default():
    entries = {
        tuple(e.split("/")) if "/" in e else ("", e) for e in DEFAULT_ALLOWED_KINDS
    }
    assert not entries & CLUSTER_SCOPED


# --- the cluster record's settings -------------------------------------------


def test_parse_kinds():
    assert parse_kinds("ConfigMap\n apps/Deployment , batch/Job\n\nConfigMap") == (
        "ConfigMap",
        "apps/Deployment",
        "batch/Job",
    )
    with pytest.raises(PermanentError) as info:
        parse_kinds("configmap\napps/\n/Deployment\nApps/Deployment\nConfigMap")
    for bad in ("'configmap'", "'apps/'", "'/Deployment'", "'Apps/Deployment'"):
        assert bad in str(info.value)


def test_parse_cluster_roles():
    assert parse_cluster_roles("view, edit\nmonitoring:read") == (
        "view",
        "edit",
        "monitoring:read",
    )
    with pytest.raises(PermanentError):
        parse_cluster_roles("View")


# --- the scope the server reports --------------------------------------------


def test_scope_problems_use_the_servers_view():
    docs = [
        doc("Widget", "w", "example.com/v1"),
        doc("Gadget", "g", "example.com/v1", namespace="globex"),
        doc("Namespace", NS),
    ]
    cluster_wide = {"Widget", "Namespace"}
    found = scope_problems(docs, NS, lambda d: d["kind"] not in cluster_wide)
    assert found == [
        "document 1 (Widget/w): kind: example.com/Widget is cluster-scoped; an app "
        "may only create objects in its namespace 'acme'",
        "document 2 (Gadget/g): metadata.namespace: 'globex' is not the app's "
        "namespace 'acme'",
    ]


# --- prune and delete stay inside the namespace and the label ----------------


def _configmap(name, namespace, app):
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": {APP_LABEL: app}},
    }


@pytest.fixture
def neighbours(kube_api, kube_client):
    """acme's objects, acme-int's in the same namespace, an 'acme' one elsewhere."""
    apply_app(kube_client, "acme", NS, [_configmap("mine", NS, "acme")])
    apply_app(kube_client, "acme-int", NS, [_configmap("int", NS, "acme-int")])
    # Same label, another namespace (another customer's app also named acme
    # on a shared cluster must never be touched through this one).
    apply_app(
        kube_client, "acme", "globex", [_configmap("elsewhere", "globex", "acme")]
    )
    kube_api.reset_requests()
    return kube_api


def _names(kube_api):
    return sorted(
        (o["metadata"]["namespace"], o["metadata"]["name"])
        for o in kube_api.list_objects(kind="ConfigMap")
    )


def test_prune_stays_in_the_namespace_and_the_label(neighbours, kube_client):
    result = apply_app(kube_client, "acme", NS, [])  # nothing rendered: prune all

    assert [
        (o.kind, o.name, o.action) for o in result.objects if o.kind == "ConfigMap"
    ] == [("ConfigMap", "mine", "pruned")]
    assert _names(neighbours) == [("acme", "int"), ("globex", "elsewhere")]
    deletes = [r for r in neighbours.requests if r.method == "DELETE"]
    assert [r.path for r in deletes] == ["/api/v1/namespaces/acme/configmaps/mine"]
    lists = [
        r
        for r in neighbours.requests
        if r.method == "GET" and "labelSelector" in r.query
    ]
    assert lists and all("/namespaces/acme/" in r.path for r in lists)
    assert {r.query["labelSelector"] for r in lists} == {
        f"{APP_LABEL}=acme,{RETAIN_LABEL}!=true"
    }


def test_delete_app_stays_in_the_namespace_and_the_label(neighbours, kube_client):
    result = delete_app(kube_client, "acme", NS)

    assert [(o.name, o.action) for o in result.objects] == [("mine", "pruned")]
    assert _names(neighbours) == [("acme", "int"), ("globex", "elsewhere")]
    assert all(
        r.path.startswith("/api/v1/namespaces/acme/")
        or r.path.startswith("/apis/")
        and "/namespaces/acme/" in r.path
        for r in neighbours.requests
        if r.method == "DELETE" or "labelSelector" in r.query
    )
