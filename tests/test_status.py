"""Status of apps from API objects: pure functions on fixtures, and the collector."""

import json
from pathlib import Path

import pytest
from kubernetes import client as k8s

from mintcloud.apply import APP_LABEL, apply_app
from mintcloud.errors import KubeTransientError
from mintcloud.status import (
    AppStatus,
    app_status,
    collect_status,
    ingress_status,
    job_status,
    workload_status,
)

DATA = Path(__file__).parent / "data" / "status"


def load(name):
    return json.loads((DATA / f"{name}.json").read_text())


# --- ingress ------------------------------------------------------------------


def test_ingress_nginx_with_address_and_tls_is_ready():
    st = ingress_status(load("ingress_nginx_ready"))
    assert st == {
        "name": "odoo",
        "namespace": "acme",
        "hosts": ["acme.mint-cloud.ch"],
        "addresses": ["203.0.113.10"],
        "tls_hosts": ["acme.mint-cloud.ch"],
        "tls_ready": True,
    }


def test_ingress_without_address_is_not_ready():
    st = ingress_status(load("ingress_no_address"))
    assert st["hosts"] == ["acme-int.mint-cloud.ch"]
    assert st["addresses"] == []
    assert st["tls_ready"] is False


def test_ingress_wildcard_covers_one_host_but_not_the_other():
    st = ingress_status(load("ingress_partial_tls"))
    assert st["hosts"] == ["shop.mint-cloud.ch", "www.shop-example.com"]
    assert st["addresses"] == ["a1b2c3d4e5f6-1234567890.eu-central-1.elb.amazonaws.com"]
    assert st["tls_hosts"] == ["*.mint-cloud.ch"]
    assert st["tls_ready"] is False  # www.shop-example.com has no certificate


def test_ingress_wildcard_covers_only_one_level():
    obj = load("ingress_partial_tls")
    obj["spec"]["rules"] = [{"host": "shop.mint-cloud.ch"}]
    assert ingress_status(obj)["tls_ready"] is True
    obj["spec"]["rules"] = [{"host": "a.shop.mint-cloud.ch"}]
    assert ingress_status(obj)["tls_ready"] is False


def test_ingress_without_tls_or_hosts_is_not_tls_ready():
    obj = load("ingress_nginx_ready")
    del obj["spec"]["tls"]
    assert ingress_status(obj)["tls_ready"] is False
    bare = {
        "kind": "Ingress",
        "metadata": {"name": "x"},
        "spec": {"defaultBackend": {}},
    }
    st = ingress_status(bare)
    assert st["hosts"] == [] and st["tls_ready"] is False
    odd = {"kind": "Ingress", "metadata": {"name": "x"}, "spec": "not a mapping"}
    assert ingress_status(odd)["hosts"] == []


# --- workloads ----------------------------------------------------------------


def test_deployment_ready():
    st = workload_status(load("deployment_ready"))
    assert st["kind"] == "Deployment" and st["name"] == "odoo"
    assert (st["desired"], st["ready"], st["available"]) == (2, 2, 2)
    assert st["ok"] is True and st["message"] is None


def test_deployment_mid_rollout_is_not_ok():
    st = workload_status(load("deployment_rollout"))
    assert (st["desired"], st["ready"], st["available"], st["updated"]) == (2, 2, 2, 1)
    assert st["ok"] is False
    assert st["message"] == "1 of 2 replicas updated"


def test_deployment_with_old_replicas_terminating():
    obj = load("deployment_rollout")
    obj["status"]["updatedReplicas"] = 2  # all new, one old still around (replicas 3)
    st = workload_status(obj)
    assert st["ok"] is False
    assert st["message"] == "1 old replicas pending termination"


def test_deployment_not_all_ready_or_available():
    obj = load("deployment_ready")
    obj["status"]["readyReplicas"] = 1
    assert workload_status(obj)["message"] == "1 of 2 replicas ready"
    obj["status"]["readyReplicas"] = 2
    obj["status"]["availableReplicas"] = 1
    assert workload_status(obj)["message"] == "1 of 2 replicas available"


def test_deployment_progress_deadline_exceeded():
    st = workload_status(load("deployment_deadline_exceeded"))
    assert st["ok"] is False
    assert st["ready"] == 0
    assert "timed out progressing" in st["message"]


def test_deployment_spec_not_yet_observed():
    obj = load("deployment_ready")
    obj["metadata"]["generation"] = 5
    st = workload_status(obj)
    assert st["ok"] is False and "observe" in st["message"]


def test_deployment_without_status_defaults_to_one_replica():
    st = workload_status(load("deployment_new"))
    assert (st["desired"], st["ready"], st["available"], st["ok"]) == (1, 0, 0, False)


def test_deployment_scaled_to_zero_is_ok():
    obj = load("deployment_ready")
    obj["spec"]["replicas"] = 0
    obj["status"] = {"observedGeneration": 4}
    assert workload_status(obj)["ok"] is True


def test_statefulset_ready_and_rolling():
    assert workload_status(load("statefulset_ready"))["ok"] is True
    st = workload_status(load("statefulset_rolling"))
    assert (st["desired"], st["ready"], st["available"]) == (3, 2, 2)
    assert st["ok"] is False and st["message"] == "1 of 3 pods updated"


def test_statefulset_with_partition_or_on_delete_is_not_rolling():
    obj = load("statefulset_rolling")
    obj["status"]["readyReplicas"] = obj["status"]["availableReplicas"] = 3
    obj["spec"]["updateStrategy"] = {"type": "OnDelete"}
    assert workload_status(obj)["ok"] is True
    obj["spec"]["updateStrategy"] = {
        "type": "RollingUpdate",
        "rollingUpdate": {"partition": 2},
    }
    assert workload_status(obj)["ok"] is True
    obj["spec"]["updateStrategy"]["rollingUpdate"]["partition"] = 0
    assert workload_status(obj)["message"] == "1 of 3 pods updated"


def test_statefulset_without_available_replicas_uses_ready():
    obj = load("statefulset_ready")
    del obj["status"]["availableReplicas"]
    st = workload_status(obj)
    assert st["available"] == 1 and st["ok"] is True
    obj["status"]["readyReplicas"] = 0
    assert workload_status(obj)["message"] == "0 of 1 replicas ready"


# --- jobs ---------------------------------------------------------------------


def test_job_failed_with_backoff_limit():
    st = job_status(load("job_failed"))
    assert st == {
        "name": "odoo-init-db",
        "namespace": "acme",
        "state": "failed",
        "message": "Job has reached the specified backoff limit",
        "start": "2024-05-02T09:14:28Z",
        "end": "2024-05-02T09:21:02Z",
    }


def test_job_succeeded():
    st = job_status(load("job_succeeded"))
    assert st["state"] == "succeeded"
    assert (st["start"], st["end"]) == ("2024-05-06T02:00:00Z", "2024-05-06T02:03:41Z")
    assert st["message"] is None


def test_job_succeeded_by_count_without_conditions():
    obj = load("job_succeeded")
    del obj["status"]["conditions"]
    assert job_status(obj)["state"] == "succeeded"


def test_job_running_with_a_failed_attempt():
    st = job_status(load("job_running"))
    assert st["state"] == "running"
    assert st["message"] == "1 failed attempt(s), retrying"
    assert st["end"] is None


def test_job_failed_condition_reason_when_no_message():
    obj = load("job_failed")
    obj["status"]["conditions"] = [
        {
            "type": "Failed",
            "status": "True",
            "reason": "DeadlineExceeded",
            "lastTransitionTime": "t",
        }
    ]
    st = job_status(obj)
    assert (st["state"], st["message"], st["end"]) == (
        "failed",
        "DeadlineExceeded",
        "t",
    )


# --- app ----------------------------------------------------------------------


def test_app_running_with_ingress_summary():
    st = app_status(
        [
            load("deployment_ready"),
            load("statefulset_ready"),
            load("ingress_nginx_ready"),
            load("job_succeeded"),
        ]
    )
    assert isinstance(st, AppStatus)
    assert st.state == "running" and st.message is None
    assert (st.ready, st.desired) == (3, 3)
    assert st.namespace == "acme"
    assert st.hosts == ["acme.mint-cloud.ch"]
    assert st.addresses == ["203.0.113.10"]
    assert st.tls_ready is True
    assert [j["state"] for j in st.jobs] == ["succeeded"]
    assert st.to_dict()["state"] == "running"


def test_app_degraded_when_a_workload_is_rolling_out():
    st = app_status([load("deployment_rollout"), load("statefulset_ready")])
    assert st.state == "degraded"
    assert st.message == "Deployment odoo: 1 of 2 replicas updated"
    assert (st.ready, st.desired) == (3, 3)
    assert st.tls_ready is False  # no ingress


def test_app_degraded_when_a_job_failed():
    st = app_status([load("deployment_ready"), load("job_failed")])
    assert st.state == "degraded"
    assert st.message.startswith("Job odoo-init-db failed: Job has reached")


def test_app_degraded_by_a_failed_job_without_message():
    job = load("job_failed")
    job["status"]["conditions"] = [{"type": "Failed", "status": "True"}]
    assert app_status([job]).message == "Job odoo-init-db failed"


def test_app_pending_when_nothing_reported():
    assert app_status([]).state == "pending"
    st = app_status([load("deployment_new"), load("ingress_no_address")])
    assert st.state == "pending"
    assert st.message == "waiting for the first status report"


def test_app_with_only_jobs():
    assert app_status([load("job_running")]).state == "pending"
    assert app_status([load("job_succeeded")]).state == "running"


def test_app_counts_only_the_latest_run_of_a_cronjob():
    old = load("job_succeeded")
    old["metadata"]["name"] = "odoo-backup-28583880"
    old["metadata"]["creationTimestamp"] = "2024-05-05T02:00:00Z"
    old["status"] = load("job_failed")["status"]
    new = load("job_succeeded")
    st = app_status([load("deployment_ready"), new, old])
    assert [j["name"] for j in st.jobs] == ["odoo-backup-28585320"]
    assert st.state == "running"
    # The other order gives the same answer.
    assert app_status([load("deployment_ready"), old, new]).jobs == st.jobs
    # With the newest run failed, the app is degraded.
    old["metadata"]["creationTimestamp"] = "2024-05-07T02:00:00Z"
    assert app_status([load("deployment_ready"), new, old]).state == "degraded"


def test_app_ignores_other_kinds():
    st = app_status([{"kind": "ConfigMap", "metadata": {"name": "x"}}])
    assert st.state == "pending" and st.workloads == [] and st.jobs == []


# --- collector on the fake API server -----------------------------------------


def _list_requests(kube_api):
    """GET requests on collections of resources (not discovery, not single objects)."""
    kinds = ("deployments", "statefulsets", "ingresses", "jobs")
    return [
        r
        for r in kube_api.requests
        if r.method == "GET" and r.path.rstrip("/").split("/")[-1] in kinds
    ]


def test_collect_status_groups_by_app_with_one_list_per_kind(kube_api, kube_client):
    apply_app(
        kube_client,
        "acme",
        "acme",
        [load("deployment_ready"), load("ingress_nginx_ready")],
    )
    int_ingress = load("ingress_no_address")
    apply_app(kube_client, "acme-int", "acme", [int_ingress])
    kube_api.mark_ready("Deployment", "odoo", "acme")
    kube_api.set_ingress_address("odoo", "acme", ip="203.0.113.10")
    kube_api.reset_requests()

    result = collect_status(kube_client)

    assert set(result) == {"acme", "acme-int"}
    assert result["acme"].state == "running"
    assert result["acme"].addresses == ["203.0.113.10"]
    assert result["acme"].tls_ready is True
    assert result["acme-int"].state == "pending"  # only an ingress, no address yet
    assert result["acme-int"].hosts == ["acme-int.mint-cloud.ch"]
    lists = _list_requests(kube_api)
    assert len(lists) == 4
    assert all(r.query.get("labelSelector") == APP_LABEL for r in lists)
    # cluster-wide: no namespace in the path
    assert all("/namespaces/" not in r.path for r in lists)

    assert collect_status(kube_client, namespaces=["elsewhere"]) == {}
    assert set(collect_status(kube_client, namespaces=["acme"])) == {"acme", "acme-int"}


def test_collect_status_for_1000_apps_lists_each_kind_once(kube_api, kube_client):
    """1,000 apps: exactly one LIST per kind, whatever the number of apps."""
    n = 1000
    _bulk_create(kube_client, n)
    for i in range(5):
        kube_api.mark_ready("Deployment", f"odoo-{i}", f"ns{i % 10}")
    kube_api.reset_requests()

    result = collect_status(kube_client)

    assert len(result) == n
    assert all(st.desired == 2 for st in result.values())
    states = {app: st.state for app, st in result.items()}
    assert [app for app, state in states.items() if state == "running"] == [
        f"app{i:04d}" for i in range(5)
    ]
    assert result["app0999"].state == "pending"
    assert result["app0999"].namespace == "ns9"
    # One LIST per kind; the 1000 Deployments come in two pages of 500.
    lists = _list_requests(kube_api)
    assert len([r for r in lists if "continue" not in r.query]) == 4
    assert len(lists) == 5
    assert all(r.query.get("limit") == "500" for r in lists)
    non_discovery = [
        r
        for r in kube_api.requests
        if not (
            r.path in ("/version", "/api", "/apis")
            or r.path.rstrip("/").count("/") <= 3
        )
    ]
    assert non_discovery == lists


def _bulk_create(kube_client, n):
    """Create n Deployments (one per app, ten namespaces) with plain POSTs."""
    core, apps = k8s.CoreV1Api(kube_client), k8s.AppsV1Api(kube_client)
    for i in range(10):
        core.create_namespace({"metadata": {"name": f"ns{i}"}})
    body = load("deployment_ready")
    body.pop("status")
    for i in range(n):
        body["metadata"] = {
            "name": f"odoo-{i}",
            "namespace": f"ns{i % 10}",
            "labels": {APP_LABEL: f"app{i:04d}"},
        }
        # Unparsed response: read the body so the connection goes back to the pool.
        resp = apps.create_namespaced_deployment(
            f"ns{i % 10}", body, _preload_content=False
        )
        assert resp.status == 201 and resp.data


@pytest.mark.parametrize("kinds", [("Deployment",), ("Ingress", "Job")])
def test_collect_status_lists_only_the_asked_kinds(kube_api, kube_client, kinds):
    kube_api.reset_requests()
    assert collect_status(kube_client, kinds=kinds) == {}
    assert len(_list_requests(kube_api)) == len(kinds)


def test_collect_status_skips_kinds_the_server_does_not_serve(kube_api, kube_client):
    apply_app(kube_client, "acme", "acme", [load("deployment_ready")])
    kube_api.reset_requests()
    result = collect_status(kube_client, kinds=("Widget", "Deployment"))
    assert list(result) == ["acme"]
    assert len(_list_requests(kube_api)) == 1


def test_collect_status_transient_failure_is_raised(kube_api, kube_client):
    kube_api.inject_fault(503, times=1, path_contains="/ingresses")
    with pytest.raises(KubeTransientError, match="list Ingress: .*unable to handle"):
        collect_status(kube_client)
