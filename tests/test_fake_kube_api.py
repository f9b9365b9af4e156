"""The fake Kubernetes API server, exercised through the real ``kubernetes`` client."""

import json
import tempfile
import time

import pytest
import urllib3
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import ConflictError, NotFoundError

from tests.fakes.kube_api import FakeKubeServer, RequestRecord

NS = "default"


def resource(dyn, api_version, kind):
    return dyn.resources.get(api_version=api_version, kind=kind)


def configmap(name, labels=None, data=None, namespace=NS):
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": data or {"k": "v"},
    }
    if labels is not None:
        body["metadata"]["labels"] = labels
    return body


def deployment(name="web", replicas=None, labels=None):
    spec = {
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {"containers": [{"name": "app", "image": "nginx:1.25"}]},
        },
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels or {"app": name}},
        "spec": spec,
    }


POD_TEMPLATE = {
    "spec": {
        "restartPolicy": "Never",
        "containers": [{"name": "c", "image": "busybox"}],
    }
}
BODIES = {
    ("v1", "ConfigMap"): {"data": {"a": "1"}},
    ("v1", "Secret"): {"data": {"a": "MQ=="}},
    ("v1", "Service"): {"spec": {"ports": [{"port": 80}], "selector": {"app": "x"}}},
    ("v1", "PersistentVolumeClaim"): {
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}},
        }
    },
    ("v1", "ServiceAccount"): {},
    ("apps/v1", "Deployment"): {"spec": deployment()["spec"]},
    ("apps/v1", "StatefulSet"): {
        "spec": {**deployment()["spec"], "serviceName": "web"}
    },
    ("batch/v1", "Job"): {"spec": {"template": POD_TEMPLATE}},
    ("batch/v1", "CronJob"): {
        "spec": {
            "schedule": "*/5 * * * *",
            "jobTemplate": {"spec": {"template": POD_TEMPLATE}},
        }
    },
    ("networking.k8s.io/v1", "Ingress"): {
        "spec": {"rules": [{"host": "a.example.com"}]}
    },
}


# --- discovery ------------------------------------------------------------------


def test_version_endpoint(kube_client, kube_api):
    info = client.VersionApi(kube_client).get_code()
    assert (info.git_version, info.major, info.minor) == ("v1.29.0", "1", "29")
    assert client.Configuration.get_default_copy().host != kube_api.url


@pytest.mark.parametrize("api_version,kind", sorted(BODIES) + [("v1", "Namespace")])
def test_dynamic_discovery_finds_each_kind(dyn, api_version, kind):
    found = resource(dyn, api_version, kind)
    assert found.group_version == api_version
    assert found.namespaced is (kind != "Namespace")
    assert {"create", "get", "list", "patch", "update", "delete"} <= set(found.verbs)
    has_status = kind not in ("ConfigMap", "Secret", "ServiceAccount")
    assert ("status" in found.subresources) is has_status


def test_fresh_server_on_other_port_with_default_cache(kube_api, tmp_path, monkeypatch):
    # The default cache file is $TMPDIR/osrcp-<md5(host)>.json: keep old runs out.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with FakeKubeServer(version="1.30.2") as other:
        configuration = client.Configuration()
        configuration.host = other.url
        configuration.proxy = None
        with client.ApiClient(configuration) as api_client:
            dyn = DynamicClient(api_client)  # default cache file, keyed by host:port
            assert dyn.version["kubernetes"]["gitVersion"] == "v1.30.2"
            cronjobs = resource(dyn, "batch/v1", "CronJob")
            assert (
                cronjobs.path(namespace="x") == "/apis/batch/v1/namespaces/x/cronjobs"
            )
    assert other.url != kube_api.url


def test_aggregated_discovery_accept_gets_plain_json(kube_api):
    accept = (
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
        "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
    )
    response = urllib3.PoolManager().request(
        "GET", f"{kube_api.url}/apis", headers={"Accept": accept}
    )
    body = json.loads(response.data)
    assert response.headers["Content-Type"] == "application/json"
    assert body["kind"] == "APIGroupList"
    assert {
        "apps",
        "batch",
        "networking.k8s.io",
        "rbac.authorization.k8s.io",
        "externaldns.k8s.io",
    } == {g["name"] for g in body["groups"]}


def test_unknown_paths_are_404_status(kube_api):
    http = urllib3.PoolManager()
    for path in (
        "/apis/example.com/v1",
        "/api/v1/nodes",
        "/nope",
        "/api/v1/namespaces/default/configmaps/x/scale",
    ):
        response = http.request("GET", kube_api.url + path)
        body = json.loads(response.data)
        assert (response.status, body["kind"], body["reason"], body["code"]) == (
            404,
            "Status",
            "NotFound",
            404,
        )


# --- CRUD -----------------------------------------------------------------------


@pytest.mark.parametrize("api_version,kind", sorted(BODIES))
def test_crud_of_each_kind(dyn, kube_api, api_version, kind):
    res = resource(dyn, api_version, kind)
    body = {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": "thing", "labels": {"t": "1"}},
        **BODIES[(api_version, kind)],
    }
    created = res.create(body=body, namespace=NS)
    assert created.metadata.namespace == NS and created.metadata.uid
    assert res.get(name="thing", namespace=NS).metadata.uid == created.metadata.uid
    listed = res.get(namespace=NS)
    assert listed.kind == f"{kind}List" and [i.metadata.name for i in listed.items] == [
        "thing"
    ]
    body["metadata"]["labels"] = {"t": "2"}
    replaced = res.replace(body=body, namespace=NS)
    assert replaced.metadata.labels.t == "2"
    assert int(replaced.metadata.resourceVersion) > int(
        created.metadata.resourceVersion
    )
    res.delete(name="thing", namespace=NS)
    assert kube_api.get_object(api_version, kind, "thing", NS) is None
    with pytest.raises(NotFoundError):
        res.get(name="thing", namespace=NS)


def test_namespace_crud_and_default_is_protected(core, kube_api):
    created = core.create_namespace({"metadata": {"name": "team-a"}})
    assert created.metadata.labels["kubernetes.io/metadata.name"] == "team-a"
    assert created.status.phase == "Active"
    assert [n.metadata.name for n in core.list_namespace().items] == [
        "default",
        "team-a",
    ]
    with pytest.raises(ApiException) as error:
        core.delete_namespace("default")
    assert error.value.status == 403


def test_server_metadata_on_create(core, kube_api):
    first = core.create_namespaced_config_map(
        NS, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="a"))
    )
    second = core.create_namespaced_config_map(NS, configmap("b"))
    assert (
        first.metadata.generation == 1 and first.metadata.creation_timestamp is not None
    )
    assert (
        first.metadata.namespace == NS
        and first.kind == "ConfigMap"
        and first.api_version == "v1"
    )
    assert int(second.metadata.resource_version) > int(first.metadata.resource_version)
    assert first.metadata.uid != second.metadata.uid


def test_generate_name(core):
    created = core.create_namespaced_config_map(
        NS, {"metadata": {"generateName": "cfg-"}}
    )
    assert created.metadata.name.startswith("cfg-") and len(created.metadata.name) == 9


def test_create_twice_is_already_exists(core):
    core.create_namespaced_config_map(NS, configmap("dup"))
    with pytest.raises(ApiException) as error:
        core.create_namespaced_config_map(NS, configmap("dup"))
    body = json.loads(error.value.body)
    assert (error.value.status, body["reason"]) == (409, "AlreadyExists")
    assert body["details"] == {"name": "dup", "group": "", "kind": "configmaps"}


def test_get_missing_is_not_found_status(apps):
    with pytest.raises(ApiException) as error:
        apps.read_namespaced_deployment("ghost", NS)
    body = json.loads(error.value.body)
    assert error.value.status == 404
    assert body == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'deployments.apps "ghost" not found',
        "reason": "NotFound",
        "details": {"name": "ghost", "group": "apps", "kind": "deployments"},
        "code": 404,
    }


def test_create_in_missing_namespace_is_404(core, kube_api):
    with pytest.raises(ApiException) as error:
        core.create_namespaced_config_map("nope", configmap("x", namespace="nope"))
    body = json.loads(error.value.body)
    assert (error.value.status, body["message"]) == (404, 'namespaces "nope" not found')
    assert kube_api.list_objects(kind="ConfigMap") == []


@pytest.mark.parametrize("name", ["Bad_Name", "-x", "a" * 254])
def test_invalid_name_is_422(core, name):
    with pytest.raises(ApiException) as error:
        core.create_namespaced_config_map(NS, configmap(name))
    body = json.loads(error.value.body)
    assert (error.value.status, body["reason"]) == (422, "Invalid")
    assert body["details"]["causes"][0]["field"] == "metadata.name"


def test_service_name_must_be_a_dns_label(core):
    with pytest.raises(ApiException) as error:
        core.create_namespaced_service(
            NS, {"metadata": {"name": "a.b"}, "spec": {"ports": [{"port": 80}]}}
        )
    assert error.value.status == 422


@pytest.mark.parametrize(
    "body",
    [
        {"apiVersion": "apps/v1", "kind": "ConfigMap", "metadata": {"name": "x"}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}},
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "x", "namespace": "other"},
        },
    ],
)
def test_body_not_matching_url_is_400(core, body):
    with pytest.raises(ApiException) as error:
        core.create_namespaced_config_map(NS, body)
    assert (error.value.status, json.loads(error.value.body)["reason"]) == (
        400,
        "BadRequest",
    )


def test_defaults_replicas_and_cluster_ip(apps, core):
    created = apps.create_namespaced_deployment(NS, deployment())
    assert created.spec.replicas == 1
    service = core.create_namespaced_service(
        NS, {"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}}
    )
    allocated = service.spec.cluster_ip
    assert allocated.startswith("10.96.") and service.spec.cluster_ips == [allocated]
    service.spec.cluster_ip = service.spec.cluster_ips = None
    replaced = core.replace_namespaced_service("web", NS, service)
    assert (
        replaced.spec.cluster_ip == allocated
    )  # a PUT without clusterIP keeps the allocated one
    assert (
        replaced.spec.ports[0].protocol == "TCP"
        and replaced.spec.ports[0].target_port == 80
    )


def test_secret_string_data_is_folded_into_data(core, kube_api):
    core.create_namespaced_secret(
        NS,
        {
            "metadata": {"name": "s"},
            "stringData": {"password": "hunter2"},
            "data": {"user": "YWRtaW4="},
        },
    )
    stored = kube_api.get_object("v1", "Secret", "s", NS)
    assert stored["data"] == {"user": "YWRtaW4=", "password": "aHVudGVyMg=="}
    assert "stringData" not in stored and stored["type"] == "Opaque"


# --- selectors and lists --------------------------------------------------------


@pytest.fixture
def labelled(core):
    for name, labels in [
        ("a", {"app": "web", "tier": "front"}),
        ("b", {"app": "db"}),
        ("c", {"tier": "back"}),
    ]:
        core.create_namespaced_config_map(NS, configmap(name, labels))


@pytest.mark.parametrize(
    "selector,names",
    [
        ("app=web", ["a"]),
        ("app==db", ["b"]),
        ("app!=web", ["b", "c"]),
        ("app in (web,db)", ["a", "b"]),
        ("app notin (web)", ["b", "c"]),
        ("tier", ["a", "c"]),
        ("!tier", ["b"]),
        ("app in (web, db),tier", ["a"]),
        ("", ["a", "b", "c"]),
    ],
)
def test_label_selectors(core, labelled, selector, names):
    listed = core.list_namespaced_config_map(NS, label_selector=selector)
    assert [i.metadata.name for i in listed.items] == names


def test_bad_label_selector_is_400(core, labelled):
    with pytest.raises(ApiException) as error:
        core.list_namespaced_config_map(NS, label_selector="app in web")
    assert error.value.status == 400


def test_field_selectors_and_all_namespaces(core, labelled):
    core.create_namespace({"metadata": {"name": "other"}})
    core.create_namespaced_config_map("other", configmap("a", namespace="other"))
    everywhere = core.list_config_map_for_all_namespaces(
        field_selector="metadata.name=a"
    )
    assert [(i.metadata.namespace, i.metadata.name) for i in everywhere.items] == [
        (NS, "a"),
        ("other", "a"),
    ]
    others = core.list_config_map_for_all_namespaces(
        field_selector="metadata.namespace!=default"
    )
    assert [i.metadata.namespace for i in others.items] == ["other"]
    with pytest.raises(ApiException) as error:
        core.list_namespaced_config_map(NS, field_selector="spec.foo=1")
    assert error.value.status == 400


def test_list_shape_and_pagination(kube_client, labelled):
    raw = client.CoreV1Api(kube_client).list_namespaced_config_map(
        NS, limit=2, _preload_content=False
    )
    body = json.loads(raw.data)
    assert (body["kind"], body["apiVersion"]) == ("ConfigMapList", "v1")
    assert (
        body["metadata"]["resourceVersion"].isdigit()
        and body["metadata"]["remainingItemCount"] == 1
    )
    assert "kind" not in body["items"][0]
    rest = client.CoreV1Api(kube_client).list_namespaced_config_map(
        NS, limit=2, _continue=body["metadata"]["continue"]
    )
    assert [i.metadata.name for i in rest.items] == ["c"]


# --- replace and patch ----------------------------------------------------------


def test_replace_with_stale_resource_version_is_conflict(core):
    created = core.create_namespaced_config_map(NS, configmap("cfg"))
    created.data = {"k": "new"}
    updated = core.replace_namespaced_config_map("cfg", NS, created)
    assert updated.data == {"k": "new"}
    created.data = {"k": "stale"}
    with pytest.raises(ApiException) as error:
        core.replace_namespaced_config_map("cfg", NS, created)
    body = json.loads(error.value.body)
    assert (error.value.status, body["reason"]) == (409, "Conflict")
    assert "the object has been modified" in body["message"]


def test_replace_missing_is_404_and_name_mismatch_is_400(core):
    with pytest.raises(ApiException) as error:
        core.replace_namespaced_config_map("ghost", NS, configmap("ghost"))
    assert error.value.status == 404
    core.create_namespaced_config_map(NS, configmap("real"))
    with pytest.raises(ApiException) as error:
        core.replace_namespaced_config_map("real", NS, configmap("other"))
    assert error.value.status == 400


def test_merge_patch_and_strategic_merge_patch(dyn, core):
    cms = resource(dyn, "v1", "ConfigMap")
    cms.create(body=configmap("cfg", {"a": "1", "b": "2"}), namespace=NS)
    patched = cms.patch(
        name="cfg",
        namespace=NS,
        body={"metadata": {"labels": {"a": None, "c": "3"}}},
        content_type="application/merge-patch+json",
    )
    assert dict(patched.metadata.labels) == {"b": "2", "c": "3"}
    typed = core.patch_namespaced_config_map(
        "cfg", NS, {"data": {"extra": "x"}}
    )  # strategic merge
    assert typed.data == {"k": "v", "extra": "x"}


def test_json_patch(core, kube_api):
    core.create_namespaced_config_map(NS, configmap("cfg", {"a": "1"}))
    ops = [
        {"op": "test", "path": "/data/k", "value": "v"},
        {"op": "add", "path": "/data/new", "value": "n"},
        {"op": "replace", "path": "/metadata/labels/a", "value": "2"},
        {"op": "remove", "path": "/data/k"},
    ]
    patched = core.patch_namespaced_config_map("cfg", NS, ops)
    assert patched.data == {"new": "n"} and patched.metadata.labels == {"a": "2"}
    with pytest.raises(ApiException) as error:
        core.patch_namespaced_config_map(
            "cfg", NS, [{"op": "test", "path": "/data/new", "value": "other"}]
        )
    assert error.value.status == 422
    assert kube_api.get_object("v1", "ConfigMap", "cfg", NS)["data"] == {"new": "n"}


def test_patch_with_stale_resource_version_and_unknown_content_type(kube_api, core):
    core.create_namespaced_config_map(NS, configmap("cfg"))
    with pytest.raises(ApiException) as error:
        core.patch_namespaced_config_map(
            "cfg", NS, {"metadata": {"resourceVersion": "1"}, "data": {"x": "y"}}
        )
    assert error.value.status == 409
    response = urllib3.PoolManager().request(
        "PATCH",
        f"{kube_api.url}/api/v1/namespaces/default/configmaps/cfg",
        body=b"{}",
        headers={"Content-Type": "text/plain"},
    )
    assert response.status == 415


# --- server-side apply ----------------------------------------------------------


def test_apply_creates_and_records_managed_fields(dyn, kube_api):
    cms = resource(dyn, "v1", "ConfigMap")
    created = cms.server_side_apply(
        body=configmap("cfg", {"app": "x"}), namespace=NS, field_manager="mint"
    )
    entry = created.to_dict()["metadata"]["managedFields"]
    assert [(e["manager"], e["operation"], e["fieldsType"]) for e in entry] == [
        ("mint", "Apply", "FieldsV1")
    ]
    assert entry[0]["fieldsV1"] == {
        "f:data": {"f:k": {}},
        "f:metadata": {"f:labels": {"f:app": {}}},
    }
    assert entry[0]["apiVersion"] == "v1" and entry[0]["time"].endswith("Z")
    assert kube_api.requests[-1].query == {"fieldManager": "mint"}


def test_apply_same_manager_drops_fields_it_no_longer_applies(dyn, kube_api):
    cms = resource(dyn, "v1", "ConfigMap")
    cms.server_side_apply(
        body=configmap("cfg", {"app": "x", "old": "y"}, {"k": "v", "gone": "1"}),
        namespace=NS,
        field_manager="mint",
    )
    cms.server_side_apply(
        body=configmap("cfg", {"app": "x"}, {"k": "v2"}),
        namespace=NS,
        field_manager="mint",
    )
    stored = kube_api.get_object("v1", "ConfigMap", "cfg", NS)
    assert stored["data"] == {"k": "v2"} and stored["metadata"]["labels"] == {
        "app": "x"
    }
    cms.server_side_apply(
        body=configmap("cfg", data={"k": "v2"}), namespace=NS, field_manager="mint"
    )
    assert "labels" not in kube_api.get_object("v1", "ConfigMap", "cfg", NS)["metadata"]


def test_apply_keeps_fields_owned_by_other_managers(dyn, kube_api):
    cms = resource(dyn, "v1", "ConfigMap")
    cms.server_side_apply(
        body=configmap("cfg", {"app": "x"}, {"k": "v", "shared": "s"}),
        namespace=NS,
        field_manager="a",
    )
    cms.server_side_apply(
        body=configmap("cfg", {}, {"shared": "s"}), namespace=NS, field_manager="b"
    )
    cms.patch(
        name="cfg",
        namespace=NS,
        body={"data": {"mine": "m"}},
        field_manager="editor",
        content_type="application/merge-patch+json",
    )
    cms.server_side_apply(
        body=configmap("cfg", {"app": "x"}, {"k": "v"}), namespace=NS, field_manager="a"
    )
    stored = kube_api.get_object("v1", "ConfigMap", "cfg", NS)
    assert stored["data"] == {"k": "v", "shared": "s", "mine": "m"}
    assert stored["metadata"]["labels"] == {
        "app": "x"
    }  # b's empty map merged, it did not wipe a's label
    managers = {
        (e["manager"], e["operation"]) for e in stored["metadata"]["managedFields"]
    }
    assert managers == {("a", "Apply"), ("b", "Apply"), ("editor", "Update")}


def test_apply_conflict_without_force_and_takeover_with_force(dyn, kube_api):
    deploys = resource(dyn, "apps/v1", "Deployment")
    deploys.server_side_apply(
        body=deployment(replicas=2), namespace=NS, field_manager="other-manager"
    )
    with pytest.raises(ConflictError) as error:
        deploys.server_side_apply(
            body=deployment(replicas=5), namespace=NS, field_manager="mint"
        )
    body = json.loads(error.value.body)
    assert body["reason"] == "Conflict"
    assert (
        body["message"]
        == 'Apply failed with 1 conflict: conflict with "other-manager": .spec.replicas'
    )
    assert (
        kube_api.get_object("apps/v1", "Deployment", "web", NS)["spec"]["replicas"] == 2
    )
    with pytest.raises(ConflictError) as error:
        deploys.server_side_apply(
            body=deployment(replicas=5, labels={"app": "v2"}),
            namespace=NS,
            field_manager="mint",
        )
    assert json.loads(error.value.body)["message"] == (
        'Apply failed with 2 conflicts: conflicts with "other-manager":\n'
        "- .metadata.labels.app\n- .spec.replicas"
    )
    forced = deploys.server_side_apply(
        body=deployment(replicas=5),
        namespace=NS,
        field_manager="mint",
        force_conflicts=True,
    )
    assert forced.spec.replicas == 5 and forced.metadata.generation == 2
    owners = {
        e["manager"]: e["fieldsV1"]
        for e in forced.to_dict()["metadata"]["managedFields"]
    }
    assert (
        "f:replicas" in owners["mint"]["f:spec"]
        and "f:replicas" not in owners["other-manager"]["f:spec"]
    )


def test_apply_after_plain_create_conflicts_on_defaulted_field(apps, dyn):
    apps.create_namespaced_deployment(
        NS, deployment()
    )  # "unknown" now owns the defaulted spec.replicas
    with pytest.raises(ConflictError) as error:
        resource(dyn, "apps/v1", "Deployment").server_side_apply(
            body=deployment(replicas=3), namespace=NS, field_manager="mint"
        )
    assert (
        '"unknown" using apps/v1: .spec.replicas'
        in json.loads(error.value.body)["message"]
    )


def test_apply_without_field_manager_is_400(dyn, kube_api):
    with pytest.raises(ApiException) as error:
        resource(dyn, "v1", "ConfigMap").server_side_apply(
            body=configmap("cfg"), namespace=NS
        )
    assert error.value.status == 400
    assert kube_api.get_object("v1", "ConfigMap", "cfg", NS) is None


def test_apply_unchanged_keeps_resource_version(dyn):
    cms = resource(dyn, "v1", "ConfigMap")
    first = cms.server_side_apply(
        body=configmap("cfg"), namespace=NS, field_manager="mint"
    )
    again = cms.server_side_apply(
        body=configmap("cfg"), namespace=NS, field_manager="mint"
    )
    assert again.metadata.resourceVersion == first.metadata.resourceVersion


# --- dry run, delete ------------------------------------------------------------


def test_dry_run_stores_nothing(dyn, kube_api):
    cms = resource(dyn, "v1", "ConfigMap")
    answer = cms.server_side_apply(
        body=configmap("cfg"), namespace=NS, field_manager="mint", dry_run="All"
    )
    assert (
        answer.metadata.name == "cfg"
        and kube_api.get_object("v1", "ConfigMap", "cfg", NS) is None
    )
    cms.create(body=configmap("dry"), namespace=NS, dry_run="All")
    assert kube_api.get_object("v1", "ConfigMap", "dry", NS) is None
    cms.create(body=configmap("cfg"), namespace=NS)
    cms.replace(
        body=configmap("cfg", data={"k": "changed"}), namespace=NS, dry_run="All"
    )
    cms.delete(name="cfg", namespace=NS, dry_run="All")
    assert kube_api.get_object("v1", "ConfigMap", "cfg", NS)["data"] == {"k": "v"}


def test_delete_returns_status_and_deletecollection_by_label(core, kube_api, labelled):
    status = core.delete_namespaced_config_map("c", NS)
    assert status.status == "Success" and status.details.name == "c"
    core.delete_collection_namespaced_config_map(NS, label_selector="app")
    assert kube_api.list_objects(kind="ConfigMap") == []
    assert [o["metadata"]["name"] for o in kube_api.list_objects(kind="Namespace")] == [
        "default"
    ]


def test_namespace_delete_cascades(core, apps, kube_api):
    core.create_namespace({"metadata": {"name": "team"}})
    core.create_namespaced_config_map("team", configmap("cfg", namespace="team"))
    apps.create_namespaced_deployment("team", deployment())
    core.create_namespaced_config_map(NS, configmap("keep"))
    core.delete_namespace("team")
    assert [
        (o["kind"], o["metadata"]["name"])
        for o in kube_api.list_objects(namespace="team")
    ] == []
    assert kube_api.get_object("v1", "Namespace", "team") is None
    assert kube_api.get_object("v1", "ConfigMap", "keep", NS) is not None


# --- status subresource, generation, controller hooks ---------------------------


def test_status_subresource_and_generation(apps, kube_api):
    created = apps.create_namespaced_deployment(NS, deployment())
    patched = apps.patch_namespaced_deployment_status(
        "web", NS, {"status": {"replicas": 7}, "spec": {"replicas": 9}}
    )
    assert (
        patched.status.replicas,
        patched.spec.replicas,
        patched.metadata.generation,
    ) == (7, 1, 1)
    body = deployment(replicas=4)
    body["status"] = {"replicas": 0}
    replaced = apps.replace_namespaced_deployment("web", NS, body)
    assert (
        replaced.status.replicas,
        replaced.spec.replicas,
        replaced.metadata.generation,
    ) == (7, 4, 2)
    labelled = apps.patch_namespaced_deployment(
        "web", NS, {"metadata": {"labels": {"x": "y"}}}
    )
    assert labelled.metadata.generation == 2
    read = apps.read_namespaced_deployment_status("web", NS)
    assert read.metadata.uid == created.metadata.uid and read.status.replicas == 7


def test_apply_to_status_subresource(dyn, kube_api):
    deploys = resource(dyn, "apps/v1", "Deployment")
    deploys.server_side_apply(
        body=deployment(replicas=2), namespace=NS, field_manager="mint"
    )
    status = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"replicas": 9},
        "status": {"readyReplicas": 2},
    }
    applied = deploys.status.server_side_apply(
        body=status, namespace=NS, field_manager="ctl"
    )
    assert (
        applied.status.readyReplicas,
        applied.spec.replicas,
        applied.metadata.generation,
    ) == (2, 2, 1)
    entries = {e["manager"]: e for e in applied.to_dict()["metadata"]["managedFields"]}
    assert (
        entries["ctl"]["subresource"] == "status"
        and "subresource" not in entries["mint"]
    )
    with pytest.raises(NotFoundError):
        deploys.status.server_side_apply(
            body={**status, "metadata": {"name": "ghost"}},
            namespace=NS,
            field_manager="ctl",
        )


def test_mark_ready(apps, kube_api):
    apps.create_namespaced_deployment(NS, deployment(replicas=3))
    before = kube_api.get_object("apps/v1", "Deployment", "web", NS)["metadata"][
        "resourceVersion"
    ]
    partial = kube_api.mark_ready("Deployment", "web", NS, ready=1)
    assert partial["status"]["readyReplicas"] == 1
    assert {c["type"]: c["status"] for c in partial["status"]["conditions"]}[
        "Available"
    ] == "False"
    kube_api.mark_ready("Deployment", "web", NS)
    ready = apps.read_namespaced_deployment("web", NS)
    assert (
        ready.status.ready_replicas,
        ready.status.available_replicas,
        ready.status.observed_generation,
    ) == (3, 3, 1)
    assert {c.type: c.status for c in ready.status.conditions} == {
        "Available": "True",
        "Progressing": "True",
    }
    assert int(ready.metadata.resource_version) > int(before)
    with pytest.raises(KeyError):
        kube_api.mark_ready("StatefulSet", "ghost", NS)


def test_ingress_address_and_finish_job(dyn, kube_api):
    for api_version, kind, name in [
        ("networking.k8s.io/v1", "Ingress", "ing"),
        ("batch/v1", "Job", "ok"),
        ("batch/v1", "Job", "bad"),
    ]:
        body = {
            "apiVersion": api_version,
            "kind": kind,
            "metadata": {"name": name},
            **BODIES[(api_version, kind)],
        }
        resource(dyn, api_version, kind).create(body=body, namespace=NS)
    kube_api.set_ingress_address("ing", NS, hostname="lb.example.com")
    ingress = resource(dyn, "networking.k8s.io/v1", "Ingress").get(
        name="ing", namespace=NS
    )
    assert ingress.status.loadBalancer.ingress[0].to_dict() == {
        "ip": "203.0.113.10",
        "hostname": "lb.example.com",
    }
    done, failed = (
        kube_api.finish_job("ok", NS),
        kube_api.finish_job("bad", NS, succeeded=False),
    )
    assert done["status"]["succeeded"] == 1 and done["status"]["completionTime"]
    assert {c["type"] for c in done["status"]["conditions"]} >= {"Complete"}
    assert failed["status"]["failed"] == 1 and "completionTime" not in failed["status"]
    assert {c["type"] for c in failed["status"]["conditions"]} >= {"Failed"}


# --- faults ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "code,reason",
    [(500, "InternalError"), (503, "ServiceUnavailable"), (429, "TooManyRequests")],
)
def test_status_faults_then_normal_service(core, kube_api, code, reason):
    kube_api.inject_fault(code, times=2, method="POST", path_contains="/configmaps")
    for _ in range(2):
        with pytest.raises(ApiException) as error:
            core.create_namespaced_config_map(NS, configmap("cfg"))
        assert (error.value.status, json.loads(error.value.body)["reason"]) == (
            code,
            reason,
        )
    if code == 429:
        assert error.value.headers["Retry-After"] == "1"
    assert kube_api.get_object("v1", "ConfigMap", "cfg", NS) is None
    assert (
        core.create_namespaced_config_map(NS, configmap("cfg")).metadata.name == "cfg"
    )


def test_429_on_a_get_is_retried_by_urllib3_after_retry_after(core, kube_api):
    kube_api.inject_fault(429, method="GET")
    started = time.monotonic()
    assert core.list_namespaced_config_map(NS).items == []
    assert time.monotonic() - started >= 1
    assert [r.method for r in kube_api.requests] == ["GET", "GET"]


def test_slow_fault_times_out_the_client_then_recovers(core, kube_api):
    kube_api.inject_fault("slow", method="POST", delay=0.5)
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        core.create_namespaced_config_map(NS, configmap("cfg"), _request_timeout=0.1)
    started = time.monotonic()
    assert core.read_namespace(NS, _request_timeout=2).metadata.name == NS
    assert time.monotonic() - started < 0.4  # the next request is served at once
    deadline = time.monotonic() + 3
    while (
        kube_api.get_object("v1", "ConfigMap", "cfg", NS) is None
        and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    assert (
        kube_api.get_object("v1", "ConfigMap", "cfg", NS) is not None
    )  # the timed-out POST still happened


def test_slow_write_outlived_by_a_reset_is_dropped(core, kube_api):
    """A timed-out write of one test never lands in the next test's state."""
    kube_api.inject_fault("slow", method="POST", delay=0.4)
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        core.create_namespaced_config_map(NS, configmap("cfg"), _request_timeout=0.1)
    kube_api.reset()  # what the fixture does before the next test
    time.sleep(0.6)
    assert kube_api.list_objects(kind="ConfigMap") == []


def test_slow_fault_answers_after_the_delay(core, kube_api):
    kube_api.inject_fault("slow", method="GET", delay=0.3)
    started = time.monotonic()
    assert core.read_namespace(NS, _request_timeout=2).metadata.name == NS
    assert time.monotonic() - started >= 0.3


def test_reset_fault_is_a_connection_error_then_recovers(core, kube_api):
    kube_api.inject_fault("reset", method="POST")
    with pytest.raises(urllib3.exceptions.ProtocolError):
        core.create_namespaced_config_map(NS, configmap("cfg"))
    kube_api.inject_fault(
        "reset", times=4, method="GET"
    )  # urllib3 retries a GET three times
    with pytest.raises(urllib3.exceptions.MaxRetryError):
        core.list_namespaced_config_map(NS)
    assert [r.method for r in kube_api.requests].count("GET") == 4
    assert (
        core.create_namespaced_config_map(NS, configmap("cfg")).metadata.name == "cfg"
    )


def test_fault_matching_and_clear(core, kube_api):
    kube_api.inject_fault(503, method="DELETE")
    kube_api.inject_fault(500, path_contains="/secrets")
    assert core.list_namespaced_config_map(NS).items == []
    kube_api.clear_faults()
    assert core.list_namespaced_secret(NS).items == []
    with pytest.raises(ValueError):
        kube_api.inject_fault(418)


def test_request_log(core, kube_api):
    core.list_namespaced_config_map(NS, label_selector="app=web")
    core.create_namespaced_config_map(
        NS, configmap("cfg"), field_manager="mint", dry_run="All"
    )
    assert kube_api.requests == [
        RequestRecord(
            "GET",
            "/api/v1/namespaces/default/configmaps",
            {"labelSelector": "app=web"},
            "application/json",
        ),
        RequestRecord(
            "POST",
            "/api/v1/namespaces/default/configmaps",
            {"fieldManager": "mint", "dryRun": "All"},
            "application/json",
        ),
    ]
    kube_api.reset_requests()
    assert kube_api.requests == []


def test_reset_and_inspection(core, kube_api):
    core.create_namespaced_config_map(NS, configmap("a", {"app": "x"}))
    core.create_namespaced_config_map(NS, configmap("b"))
    assert [
        o["metadata"]["name"]
        for o in kube_api.list_objects("v1", "ConfigMap", NS, "app=x")
    ] == ["a"]
    assert kube_api.get_object("v1", "ConfigMap", "a", NS)["kind"] == "ConfigMap"
    kube_api.inject_fault(500)
    kube_api.reset()
    assert [o["kind"] for o in kube_api.list_objects()] == ["Namespace"]
    assert core.list_namespaced_config_map(NS).items == []
    with pytest.raises(ValueError):
        kube_api.get_object("v1", "Node", "x")
