"""The fake Kubernetes API's Pods, Events and pod logs, through the real client."""

import json
from datetime import timedelta

import pytest
import urllib3
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.fakes import kube_pods

NS = "default"


def _deployment(name="web", replicas=2):
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": {**labels, "mint-cloud.ch/app": name}},
                "spec": {"containers": [{"name": "app", "image": "nginx:1.25"}]},
            },
        },
    }


def _job(name="reset"):
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "metadata": {"labels": {"mint-cloud.ch/app": "web-int"}},
                "spec": {
                    "restartPolicy": "Never",
                    "initContainers": [
                        {"name": "copy-database", "image": "postgres:16"},
                        {"name": "neutralize", "image": "odoo:17.0"},
                    ],
                    "containers": [{"name": "verify", "image": "postgres:16"}],
                },
            },
        },
    }


def _log(core, name, namespace, **options):
    """The log text, read raw: kubernetes 36's ``read_namespaced_pod_log``
    returns the repr of the bytes (kubernetes-client/python#2596)."""
    response = core.read_namespaced_pod_log(
        name, namespace, _preload_content=False, **options
    )
    return response.data.decode()


def _status(pod, container):
    statuses, index = kube_pods.find_container_status(pod, container)
    return statuses[index]


def _condition(pod, kind):
    return next(c for c in pod["status"]["conditions"] if c["type"] == kind)


# --- pods -----------------------------------------------------------------------


def test_add_pod_is_running_ready_and_listed_by_label(core, kube_api):
    pod = kube_api.add_pod("web-1", NS, labels={"mint-cloud.ch/app": "web"})
    assert pod["status"]["phase"] == "Running"
    assert _condition(pod, "Ready")["status"] == "True"
    assert _status(pod, "app")["restartCount"] == 0
    assert "running" in _status(pod, "app")["state"]
    listed = core.list_pod_for_all_namespaces(label_selector="mint-cloud.ch/app=web")
    assert [p.metadata.name for p in listed.items] == ["web-1"]
    assert listed.items[0].status.container_statuses[0].ready is True


def test_start_pods_plays_the_deployment_controller(kube_api, apps):
    apps.create_namespaced_deployment(NS, _deployment())
    names = kube_api.start_pods("Deployment", "web", NS)
    assert len(names) == 2 and all(n.startswith("web-") for n in names)
    # <deployment>-<replica set hash>-<random>: one ReplicaSet for both.
    assert len({n.rsplit("-", 1)[0] for n in names}) == 1
    pod = kube_api.get_object("v1", "Pod", names[0], NS)
    assert pod["metadata"]["labels"]["mint-cloud.ch/app"] == "web"
    owner = pod["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"]) == ("ReplicaSet", names[0].rsplit("-", 1)[0])
    assert pod["status"]["phase"] == "Running"


def test_start_pods_of_a_job_begin_at_the_first_init_container(kube_api, kube_client):
    client.BatchV1Api(kube_client).create_namespaced_job(NS, _job())
    (name,) = kube_api.start_pods("Job", "reset", NS)
    pod = kube_api.get_object("v1", "Pod", name, NS)
    assert pod["metadata"]["labels"]["job-name"] == "reset"
    assert pod["metadata"]["labels"]["batch.kubernetes.io/job-name"] == "reset"
    assert pod["metadata"]["ownerReferences"][0]["kind"] == "Job"
    assert pod["status"]["phase"] == "Pending"
    assert "running" in _status(pod, "copy-database")["state"]
    assert _status(pod, "neutralize")["state"]["waiting"]["reason"] == "PodInitializing"
    assert _condition(pod, "Initialized")["status"] == "False"
    # The steps complete one after another; a failing step fails the pod.
    kube_api.set_container_state(name, NS, "copy-database", "terminated")
    pod = kube_api.set_container_state(name, NS, "neutralize", "running")
    assert _status(pod, "copy-database")["state"]["terminated"]["reason"] == "Completed"
    pod = kube_api.set_container_state(
        name, NS, "neutralize", "terminated", reason="OOMKilled", exit_code=137
    )
    assert pod["status"]["phase"] == "Failed"
    terminated = _status(pod, "neutralize")["state"]["terminated"]
    assert (terminated["reason"], terminated["exitCode"]) == ("OOMKilled", 137)


def test_job_pod_succeeds_when_every_step_completes(kube_api, kube_client):
    client.BatchV1Api(kube_client).create_namespaced_job(NS, _job())
    (name,) = kube_api.start_pods("Job", "reset", NS, running=True)
    pod = kube_api.get_object("v1", "Pod", name, NS)
    assert pod["status"]["phase"] == "Running"
    pod = kube_api.set_container_state(name, NS, "verify", "terminated")
    assert pod["status"]["phase"] == "Succeeded"
    assert _condition(pod, "Ready")["status"] == "False"


def test_start_pods_of_a_statefulset_and_errors(kube_api):
    kube_api.add_pod("lonely", NS)
    with pytest.raises(KeyError):
        kube_api.start_pods("Deployment", "missing", NS)
    with pytest.raises(ValueError):
        kube_api.start_pods("Gadget", "x", NS)
    with pytest.raises(KeyError):
        kube_api.add_pod("orphan", NS, owner=("Deployment", "missing"))
    with pytest.raises(KeyError):
        kube_api.set_container_state("lonely", NS, "nope", "running")
    with pytest.raises(KeyError):
        kube_api.crash_container("missing", NS)


def test_statefulset_pods_are_numbered(kube_api, apps):
    body = _deployment("db", replicas=2)
    body["kind"] = "StatefulSet"
    body["spec"]["serviceName"] = "db"
    apps.create_namespaced_stateful_set(NS, body, _preload_content=False)
    assert kube_api.start_pods("StatefulSet", "db", NS) == ["db-0", "db-1"]


def test_crash_loop_back_off_keeps_the_crashed_run_as_current_logs(core, kube_api):
    kube_api.add_pod("web-1", NS)
    kube_api.add_log("web-1", NS, ["starting", "killed"])
    pod = kube_api.crash_container("web-1", NS, reason="OOMKilled", exit_code=137)
    status = _status(pod, "app")
    assert status["restartCount"] == 1
    assert status["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert status["lastState"]["terminated"]["reason"] == "OOMKilled"
    assert status["lastState"]["terminated"]["exitCode"] == 137
    assert pod["status"]["phase"] == "Running"
    assert _condition(pod, "Ready")["status"] == "False"
    assert _log(core, "web-1", NS) == "starting\nkilled\n"
    with pytest.raises(ApiException) as error:
        _log(core, "web-1", NS, previous=True)
    assert error.value.status == 400
    assert json.loads(error.value.body)["message"] == (
        'previous terminated container "app" in pod "web-1" not found'
    )
    # The next crash first restarts it: the last crashed run becomes previous.
    kube_api.crash_container("web-1", NS, reason="Error", exit_code=1)
    pod = kube_api.get_object("v1", "Pod", "web-1", NS)
    assert _status(pod, "app")["restartCount"] == 2
    assert _log(core, "web-1", NS) == ""
    assert _log(core, "web-1", NS, previous=True) == ("starting\nkilled\n")


def test_crash_without_back_off_starts_a_new_run(core, kube_api):
    kube_api.add_pod("web-1", NS)
    kube_api.add_log("web-1", NS, "old run")
    pod = kube_api.crash_container("web-1", NS, back_off=False)
    assert "running" in _status(pod, "app")["state"]
    assert _status(pod, "app")["lastState"]["terminated"]["reason"] == "Error"
    kube_api.add_log("web-1", NS, "new run")
    assert _log(core, "web-1", NS) == "new run\n"
    assert _log(core, "web-1", NS, previous=True) == "old run\n"


def test_waiting_container_has_no_logs(core, kube_api):
    kube_api.add_pod("web-1", NS)
    kube_api.set_container_state("web-1", NS, "app", "waiting", "ImagePullBackOff")
    kube_api.add_pod("web-2", NS, running=False, init_containers=("init",))
    with pytest.raises(ApiException) as error:
        _log(core, "web-2", NS, container="app")
    assert error.value.status == 400
    assert "is waiting to start: PodInitializing" in error.value.body


# --- logs -----------------------------------------------------------------------


def test_log_options(core, kube_api):
    kube_api.add_pod("web-1", NS)
    old = kube_pods.utcnow() - timedelta(hours=2)
    kube_api.add_log("web-1", NS, ["old 1", "old 2"], at=old)
    kube_api.add_log("web-1", NS, [f"line {i}" for i in range(1, 6)])

    assert _log(core, "web-1", NS).splitlines()[0] == "old 1"
    assert _log(core, "web-1", NS, tail_lines=2) == "line 4\nline 5\n"
    assert _log(core, "web-1", NS, tail_lines=0) == ""
    assert _log(core, "web-1", NS, since_seconds=3600).splitlines()[0] == "line 1"
    assert _log(core, "web-1", NS, since_seconds=3600, tail_lines=1) == "line 5\n"
    stamped = _log(core, "web-1", NS, tail_lines=1, timestamps=True)
    assert stamped.endswith("Z line 5\n") and stamped[:4].isdigit()
    assert _log(core, "web-1", NS, limit_bytes=4) == "old "
    since = kube_pods.stamp(kube_pods.utcnow() - timedelta(minutes=5))
    raw = urllib3.PoolManager().request(
        "GET", f"{kube_api.url}/api/v1/namespaces/{NS}/pods/web-1/log?sinceTime={since}"
    )
    assert raw.headers["Content-Type"] == "text/plain"
    assert raw.data.decode().splitlines()[0] == "line 1"


@pytest.mark.parametrize(
    "query,status,text",
    [
        ("sinceSeconds=0", 422, "sinceSeconds: Invalid value: 0"),
        ("tailLines=-1", 422, "tailLines: Invalid value: -1"),
        ("tailLines=x", 400, "tailLines: invalid integer"),
        ("previous=maybe", 400, "previous: invalid boolean"),
        ("sinceSeconds=5&sinceTime=2024-01-01T00:00:00Z", 422, "at most one of"),
        ("sinceTime=yesterday", 400, "sinceTime: invalid time"),
        ("follow=true", 400, "follow is not supported"),
        ("container=nope", 400, "container nope is not valid for pod two"),
        ("", 400, "a container name must be specified for pod two, choose one of:"),
    ],
)
def test_log_request_errors(kube_api, query, status, text):
    kube_api.add_pod("two", NS, containers=("a", "b"), init_containers=("i",))
    response = urllib3.PoolManager().request(
        "GET", f"{kube_api.url}/api/v1/namespaces/{NS}/pods/two/log?{query}"
    )
    body = json.loads(response.data)
    assert (response.status, body["kind"]) == (status, "Status")
    assert text in body["message"]


def test_log_of_each_container_and_init_container(core, kube_api):
    kube_api.add_pod("two", NS, containers=("a", "b"), init_containers=("i",))
    kube_api.add_log("two", NS, "from a", container="a")
    kube_api.add_log("two", NS, "from b", container="b")
    assert _log(core, "two", NS, container="b") == "from b\n"
    # The init container completed before the fake learnt of any log line.
    assert _log(core, "two", NS, container="i") == ""
    assert "[a b] or one of the init containers: [i]" in _log_error(kube_api, "two")


def _log_error(kube_api, pod):
    response = urllib3.PoolManager().request(
        "GET", f"{kube_api.url}/api/v1/namespaces/{NS}/pods/{pod}/log"
    )
    return json.loads(response.data)["message"]


def test_log_of_missing_pod_is_404_and_other_methods_405(kube_api):
    http = urllib3.PoolManager()
    missing = http.request("GET", f"{kube_api.url}/api/v1/namespaces/{NS}/pods/x/log")
    assert missing.status == 404
    assert json.loads(missing.data)["message"] == 'pods "x" not found'
    kube_api.add_pod("web-1", NS)
    posted = http.request(
        "POST", f"{kube_api.url}/api/v1/namespaces/{NS}/pods/web-1/log"
    )
    assert posted.status == 405
    # Only Pods have logs.
    other = http.request("GET", f"{kube_api.url}/api/v1/namespaces/{NS}/services/s/log")
    assert other.status == 404


def test_logs_go_with_their_pod_and_with_reset(core, kube_api):
    kube_api.add_pod("web-1", NS)
    kube_api.add_log("web-1", NS, "first life")
    core.delete_namespaced_pod("web-1", NS)
    kube_api.add_pod("web-1", NS)
    assert _log(core, "web-1", NS) == ""
    kube_api.add_log("web-1", NS, "again")
    kube_api.reset()
    kube_api.add_pod("web-1", NS)
    assert _log(core, "web-1", NS) == ""


def test_discovery_lists_the_log_subresource(dyn):
    pods = dyn.resources.get(api_version="v1", kind="Pod")
    assert {"status", "log"} <= set(pods.subresources)
    assert pods.subresources["log"].verbs == ["get"]


# --- events ---------------------------------------------------------------------


def test_events_classic_and_series_forms(core, kube_api):
    kube_api.add_pod("web-1", NS)
    kube_api.add_event(
        NS, "Pod", "web-1", "BackOff", "Back-off restarting", type="Warning", count=7
    )
    kube_api.add_event(
        NS,
        "Pod",
        "web-1",
        "Scheduled",
        "Assigned",
        component="default-scheduler",
        series=True,
        count=3,
    )
    kube_api.add_event(NS, "ReplicaSet", "web-abc", "SuccessfulCreate", "Created pod")
    events = core.list_namespaced_event(NS).items
    assert len(events) == 3
    back_off = next(e for e in events if e.reason == "BackOff")
    assert (back_off.type, back_off.count) == ("Warning", 7)
    assert back_off.involved_object.uid  # the pod exists: its uid is referenced
    assert back_off.last_timestamp is not None
    scheduled = next(e for e in events if e.reason == "Scheduled")
    assert scheduled.last_timestamp is None and scheduled.event_time is not None
    assert scheduled.series.count == 3
    created = next(e for e in events if e.reason == "SuccessfulCreate")
    assert created.involved_object.api_version == "apps/v1"
    assert created.involved_object.uid is None


def test_event_field_selectors_across_namespaces(core, kube_api):
    core.create_namespace({"metadata": {"name": "acme"}})
    kube_api.add_event(NS, "Pod", "a", "BackOff", "x", type="Warning")
    kube_api.add_event("acme", "Pod", "b", "Pulled", "y")
    kube_api.add_event(
        "acme",
        "Job",
        "reset",
        "BackoffLimitExceeded",
        "z",
        type="Warning",
        component="job-controller",
    )
    every = core.list_event_for_all_namespaces()
    assert len(every.items) == 3
    warnings = core.list_event_for_all_namespaces(field_selector="type=Warning")
    assert sorted(e.involved_object.name for e in warnings.items) == ["a", "reset"]
    jobs = core.list_namespaced_event(
        "acme", field_selector="involvedObject.kind=Job,involvedObject.name=reset"
    )
    assert [e.reason for e in jobs.items] == ["BackoffLimitExceeded"]
    source = core.list_event_for_all_namespaces(field_selector="source=job-controller")
    assert [e.reason for e in source.items] == ["BackoffLimitExceeded"]
    normal = core.list_event_for_all_namespaces(field_selector="type!=Warning")
    assert [e.reason for e in normal.items] == ["Pulled"]
    with pytest.raises(ApiException) as error:
        core.list_event_for_all_namespaces(field_selector="spec.nodeName=x")
    assert error.value.status == 400


def test_pod_field_selectors(core, kube_api):
    kube_api.add_pod("up", NS)
    kube_api.add_pod("init", NS, running=False, init_containers=("i",))
    running = core.list_namespaced_pod(NS, field_selector="status.phase=Running")
    assert [p.metadata.name for p in running.items] == ["up"]
    with pytest.raises(ApiException):
        core.list_namespaced_pod(NS, field_selector="type=Warning")
