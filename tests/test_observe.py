"""mintcloud.observe: objects, pods, events and logs into rows and summaries."""

from datetime import datetime, timedelta, timezone

import pytest

from mintcloud import observe
from mintcloud.apply import APP_LABEL, apply_app
from mintcloud.errors import KubePermanentError, KubeTransientError
from mintcloud.kube import api_client, get_text
from mintcloud.status import AppStatus, app_status, collect_status

NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
SECRET = "s3cr3t-db-password"


def ts(minutes_ago=0, seconds_ago=0):
    moment = NOW - timedelta(minutes=minutes_ago, seconds=seconds_ago)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def container(name, state="running", ready=None, restarts=0, last=None, **detail):
    entry = {"name": name, "restartCount": restarts, "lastState": {}}
    if state == "running":
        entry["state"] = {"running": {"startedAt": ts(5)}}
    elif state == "waiting":
        entry["state"] = {
            "waiting": {"reason": detail.get("reason", "PodInitializing")}
        }
    else:
        entry["state"] = {
            "terminated": {
                "exitCode": detail.get("exit_code", 0),
                "reason": detail.get("reason", "Completed"),
                "finishedAt": ts(1),
            }
        }
    entry["ready"] = (state == "running") if ready is None else ready
    if last:
        entry["lastState"] = {
            "terminated": {
                "exitCode": last.get("exit_code", 1),
                "reason": last["reason"],
                "finishedAt": last.get("finished", ts(2)),
                "message": last.get("message"),
            }
        }
    return entry


def pod(
    name,
    containers,
    inits=(),
    phase="Running",
    created=30,
    ready_since=20,
    app="acme",
    labels=None,
    owner=None,
):
    ready = all(c["ready"] for c in containers)
    body = {
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "acme",
            "creationTimestamp": ts(created),
            "labels": {APP_LABEL: app, **(labels or {})},
        },
        "spec": {
            "nodeName": "node-1",
            "initContainers": [{"name": c["name"]} for c in inits],
            "containers": [{"name": c["name"]} for c in containers],
        },
        "status": {
            "phase": phase,
            "initContainerStatuses": list(inits),
            "containerStatuses": list(containers),
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True" if ready else "False",
                    "lastTransitionTime": ts(ready_since),
                }
            ],
        },
    }
    if owner:
        body["metadata"]["ownerReferences"] = [{"kind": owner[0], "name": owner[1]}]
    return body


def deployment(name="acme-odoo", ready=1, desired=1, created=60, conditions=()):
    return {
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": "acme",
            "generation": 1,
            "creationTimestamp": ts(created),
        },
        "spec": {"replicas": desired},
        "status": {
            "observedGeneration": 1,
            "replicas": desired,
            "updatedReplicas": desired,
            "readyReplicas": ready,
            "availableReplicas": ready,
            "conditions": list(conditions),
        },
    }


def event(kind, name, reason, message="", type_="Normal", minutes_ago=1, **extra):
    body = {
        "metadata": {"name": f"{name}.1", "namespace": "acme"},
        "involvedObject": {"kind": kind, "name": name, "namespace": "acme"},
        "reason": reason,
        "message": message,
        "type": type_,
        "count": extra.get("count", 1),
        "lastTimestamp": ts(minutes_ago),
    }
    return body


# --- small helpers ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text,expected",
    [
        ("2026-05-01T12:00:00Z", NOW),
        ("2026-05-01T12:00:00.123456789Z", NOW.replace(microsecond=123456)),
        ("2026-05-01T14:00:00+02:00", NOW),
        ("2026-05-01T12:00:00", NOW),
        ("yesterday", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_time(text, expected):
    assert observe.parse_time(text) == expected


@pytest.mark.parametrize(
    "seconds,text",
    [
        (5, "5s"),
        (119, "119s"),
        (600, "10m"),
        (7199, "119m"),
        (7200, "2h"),
        (3 * 86400, "3d"),
    ],
)
def test_age_like_kubectl(seconds, text):
    assert observe.age(NOW - timedelta(seconds=seconds), NOW) == text
    assert observe.age(None, NOW) == ""


# --- objects ----------------------------------------------------------------------


def test_object_rows_of_every_kind():
    available = {
        "type": "Available",
        "status": "True",
        "reason": "MinimumReplicasAvailable",
        "lastTransitionTime": ts(10),
    }
    stuck = {
        "type": "Progressing",
        "status": "False",
        "reason": "ProgressDeadlineExceeded",
        "message": 'ReplicaSet "acme-db-x" has timed out progressing.',
        "lastTransitionTime": ts(2),
    }
    objects = [
        {
            "kind": "Ingress",
            "metadata": {"name": "acme", "creationTimestamp": ts(90)},
            "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.10"}]}},
        },
        deployment(conditions=[available]),
        {
            "kind": "StatefulSet",
            "metadata": {"name": "acme-db", "generation": 1},
            "spec": {"replicas": 1},
            "status": {"observedGeneration": 1, "conditions": [stuck]},
        },
        {
            "kind": "Job",
            "metadata": {"name": "acme-int-reset-1"},
            "spec": {"completions": 1},
            "status": {
                "failed": 1,
                "conditions": [
                    {
                        "type": "Failed",
                        "status": "True",
                        "reason": "BackoffLimitExceeded",
                        "message": "Job has reached the specified backoff limit",
                    }
                ],
            },
        },
        {
            "kind": "CronJob",
            "metadata": {"name": "acme-backup"},
            "spec": {"suspend": True},
        },
        {
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "acme-filestore"},
            "status": {"phase": "Bound"},
        },
        {
            "kind": "Service",
            "metadata": {"name": "acme-odoo"},
            "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.5"},
        },
        {"kind": "Gadget", "metadata": {"name": "x"}},
    ]
    rows = {r["kind"]: r for r in observe.object_rows(objects, NOW)}
    assert [r["kind"] for r in observe.object_rows(objects, NOW)] == [
        "Deployment",
        "StatefulSet",
        "Job",
        "CronJob",
        "Service",
        "PersistentVolumeClaim",
        "Ingress",
        "Gadget",
    ]
    odoo = rows["Deployment"]
    assert (odoo["ready"], odoo["status"], odoo["age"], odoo["problem"]) == (
        "1/1",
        "Available",
        "60m",
        False,
    )
    assert odoo["conditions"] == "Available=True (MinimumReplicasAvailable)"
    db = rows["StatefulSet"]
    assert db["ready"] == "0/1" and db["problem"]
    assert db["conditions"].startswith(
        "Progressing=False (ProgressDeadlineExceeded): ReplicaSet"
    )
    job = rows["Job"]
    assert job["ready"] == "0/1" and job["problem"]
    assert job["status"] == "Failed: Job has reached the specified backoff limit"
    assert rows["CronJob"]["status"] == "never run, suspended"
    assert rows["PersistentVolumeClaim"]["status"] == "Bound"
    assert not rows["PersistentVolumeClaim"]["problem"]
    assert rows["Ingress"]["status"] == "203.0.113.10"
    assert rows["Service"]["status"] == "ClusterIP 10.96.0.5"
    assert rows["Gadget"]["status"] == "" and rows["Gadget"]["age"] == ""


def test_object_row_of_a_running_job_cronjob_and_pending_claim():
    job = {"kind": "Job", "metadata": {"name": "j"}, "status": {"active": 1}}
    assert observe.object_row(job)["status"] == "Running"
    cron = {
        "kind": "CronJob",
        "metadata": {"name": "c"},
        "status": {"lastScheduleTime": ts(3), "active": [{}]},
    }
    row = observe.object_row(cron)
    assert (row["ready"], row["status"]) == ("1 active", f"last run {ts(3)}")
    claim = {"kind": "PersistentVolumeClaim", "metadata": {"name": "p"}}
    assert observe.object_row(claim)["problem"]
    ingress = {"kind": "Ingress", "metadata": {"name": "i"}}
    assert observe.object_row(ingress)["status"] == "no address yet"


# --- pods -------------------------------------------------------------------------


def test_pod_row_with_an_oom_killed_crash_loop():
    crashing = container(
        "odoo",
        "waiting",
        reason="CrashLoopBackOff",
        restarts=5,
        last={"reason": "OOMKilled", "exit_code": 137, "message": f"pw={SECRET}"},
    )
    body = pod(
        "acme-odoo-7d9-x1",
        [crashing],
        inits=[container("init-db", "terminated")],
    )
    row = observe.pod_row(body, NOW, secrets=[SECRET])
    assert (row["status"], row["ready"], row["restarts"], row["last_reason"]) == (
        "CrashLoopBackOff",
        "0/1",
        5,
        "OOMKilled",
    )
    assert row["age"] == "30m" and row["node"] == "node-1"
    init, main = row["containers"]
    assert init["init"] and init["state"] == "terminated" and init["exit_code"] == 0
    assert main["last_exit_code"] == 137
    assert SECRET not in main["message"] and "********" in main["message"]
    assert observe.failing_container(body) == ("odoo", False)


@pytest.mark.parametrize(
    "inits,mains,expected",
    [
        (
            [container("a", "running", ready=False)],
            [container("m", "waiting")],
            "Init:0/1",
        ),
        (
            [
                container("a", "terminated"),
                container("b", "terminated", exit_code=1, reason="Error"),
            ],
            [container("m", "waiting")],
            "Init:Error",
        ),
        (
            [container("a", "waiting", reason="ImagePullBackOff")],
            [container("m", "waiting")],
            "Init:ImagePullBackOff",
        ),
        ([], [container("m", "terminated")], "Completed"),
        (
            [],
            [container("m", "terminated", exit_code=137, reason="OOMKilled")],
            "OOMKilled",
        ),
        ([], [container("m", "terminated", exit_code=2, reason="")], "ExitCode:2"),
        ([], [container("m"), container("side", "terminated")], "Running"),
        ([], [container("m", "waiting", reason="ErrImagePull")], "ErrImagePull"),
    ],
)
def test_pod_status_text(inits, mains, expected):
    assert observe.pod_status_text(pod("p", mains, inits=inits)) == expected


def test_pod_status_of_terminating_and_unknown_pods():
    body = pod("p", [container("m")])
    body["metadata"]["deletionTimestamp"] = ts()
    assert observe.pod_status_text(body) == "Terminating"
    bare = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "m"}]}}
    assert observe.pod_status_text(bare) == "Unknown"
    assert observe.container_rows(bare)[0]["state"] == "unknown"


def test_failing_container_finds_the_logs_that_tell_why():
    restarted = pod("p", [container("m", restarts=2, last={"reason": "OOMKilled"})])
    assert observe.failing_container(restarted) == ("m", True)
    failed_step = pod(
        "p",
        [container("verify", "waiting")],
        inits=[container("copy", "terminated", exit_code=1, reason="Error")],
    )
    assert observe.failing_container(failed_step) == ("copy", False)
    assert observe.failing_container(pod("p", [container("m")])) is None
    row = observe.pod_row(failed_step, NOW)
    assert row["last_reason"] == "Error"
    assert (
        observe.pod_rows([pod("b", [container("m")]), pod("a", [container("m")])])[0][
            "name"
        ]
        == "a"
    )


# --- events -----------------------------------------------------------------------


def test_event_rows_warnings_first_then_newest_within_the_hour():
    events = [
        event("Pod", "acme-odoo-x", "Pulled", "pulled", minutes_ago=2),
        event(
            "Pod", "acme-odoo-x", "BackOff", f"restart {SECRET}", "Warning", 5, count=7
        ),
        event("Pod", "acme-odoo-x", "Started", "started", minutes_ago=1),
        event("Pod", "acme-odoo-x", "Unhealthy", "probe failed", "Warning", 3),
        event("Pod", "acme-odoo-x", "Old", "too old", "Warning", 61),
    ]
    rows = observe.event_rows(events, NOW, secrets=[SECRET])
    assert [r["reason"] for r in rows] == ["Unhealthy", "BackOff", "Started", "Pulled"]
    back_off = rows[1]
    assert back_off["object"] == "Pod/acme-odoo-x"
    assert back_off["count"] == 7
    assert back_off["message"] == "restart ********"
    assert back_off["last_seen"] == NOW - timedelta(minutes=5)


def test_event_time_and_count_of_the_series_form():
    series = {
        "metadata": {"name": "x", "namespace": "acme", "creationTimestamp": ts(30)},
        "involvedObject": {"kind": "Pod", "name": "p"},
        "reason": "FailedScheduling",
        "type": "Warning",
        "eventTime": "2026-05-01T11:40:00.000000Z",
        "series": {"count": 4, "lastObservedTime": "2026-05-01T11:58:00.123456Z"},
        "firstTimestamp": None,
        "lastTimestamp": None,
    }
    row = observe.event_row(series)
    assert row["count"] == 4
    assert row["last_seen"] == NOW - timedelta(minutes=2) + timedelta(
        microseconds=123456
    )
    assert row["namespace"] == "acme"
    del series["series"]
    assert observe.event_time(series) == NOW - timedelta(minutes=20)
    series["eventTime"] = None
    assert observe.event_time(series) == NOW - timedelta(minutes=30)
    assert observe.event_time({"metadata": {}}) is None
    assert observe.event_row({"involvedObject": {"name": "n"}})["object"] == "n"


def test_event_index_tells_apps_of_one_namespace_apart():
    index = observe.EventIndex({"acme": ["acme", "acme-int"]})
    index.add("acme", "acme", "Deployment", "acme-odoo")
    index.add("acme-int", "acme", "Deployment", "acme-int-odoo")
    index.add("custom", "acme", "Job", "weird-name")

    def app(kind, name, namespace="acme"):
        return index.app_of(
            {"involvedObject": {"kind": kind, "name": name, "namespace": namespace}}
        )

    assert app("Deployment", "acme-odoo") == "acme"
    assert app("ReplicaSet", "acme-int-odoo-5f7d8") == "acme-int"
    assert app("ReplicaSet", "acme-odoo-5f7d8") == "acme"
    assert app("PersistentVolumeClaim", "acme-int-filestore") == "acme-int"
    assert app("Service", "acme-db") == "acme"
    assert app("Job", "weird-name") == "custom"
    assert app("Pod", "other-x") is None
    assert app("Pod", "acme-x", namespace="elsewhere") is None
    events = [
        event("Pod", "acme-int-odoo-1", "BackOff"),
        event("Pod", "acme-odoo-1", "BackOff"),
    ]
    assert observe.app_events(events, "acme-int", index) == events[:1]


# --- health -----------------------------------------------------------------------


def running_status():
    return app_status([deployment()])


def degraded_status():
    return app_status([deployment(ready=0)])


def test_health_running_since_the_pods_became_ready():
    pods = [
        pod("a", [container("odoo")], ready_since=20),
        pod("b", [container("odoo")], ready_since=10),
    ]
    result = observe.health(running_status(), pods, "running", now=NOW)
    assert result.to_dict() == {
        "state": "running",
        "reason": "running",
        "since": NOW - timedelta(minutes=10),
    }
    # Without pods the since is unknown; a previous running keeps its since.
    assert observe.health(running_status(), None, "running", now=NOW).since is None
    before = observe.Health("running", "running", NOW - timedelta(days=3))
    assert observe.health(running_status(), pods, "running", before, NOW).since == (
        before.since
    )


@pytest.mark.parametrize(
    "waiting,last,reason",
    [
        ("CrashLoopBackOff", "OOMKilled", "out_of_memory"),
        ("CrashLoopBackOff", "Error", "crashing"),
        ("ImagePullBackOff", None, "image"),
        ("CreateContainerConfigError", None, "config"),
    ],
)
def test_health_problem_of_a_container_that_cannot_run(waiting, last, reason):
    crashing = container(
        "odoo",
        "waiting",
        reason=waiting,
        restarts=3 if last else 0,
        last={"reason": last} if last else None,
    )
    pods = [pod("a", [crashing], ready_since=7)]
    result = observe.health(degraded_status(), pods, "degraded", now=NOW)
    assert (result.state, result.reason, result.since) == (
        "problem",
        reason,
        NOW - timedelta(minutes=7),
    )


def test_health_starting_then_a_problem_after_the_grace():
    pods = [pod("a", [container("odoo", ready=False)], created=3)]
    result = observe.health(degraded_status(), pods, "degraded", now=NOW)
    assert (result.state, result.reason) == ("starting", "starting")
    assert result.since == NOW - timedelta(minutes=3)
    later = NOW + timedelta(minutes=20)
    stuck = observe.health(degraded_status(), pods, "degraded", result, later)
    assert (stuck.state, stuck.reason, stuck.since) == (
        "problem",
        "not_ready",
        result.since,
    )
    again = observe.health(degraded_status(), pods, "degraded", stuck, later)
    assert (again.reason, again.since) == ("not_ready", result.since)
    # A pod stuck for long (not a Job's) is a problem at once.
    old = [pod("a", [container("odoo", ready=False)], created=120)]
    assert (
        observe.health(degraded_status(), old, "degraded", now=NOW).reason
        == "not_ready"
    )


def test_health_of_deploying_failed_and_draft_apps():
    assert observe.health(None, None, "draft", now=NOW) is None
    assert observe.health(None, None, "dry-run", now=NOW) is None
    assert observe.health(None, None, "queued", now=NOW).to_dict() == {
        "state": "starting",
        "reason": "deploying",
        "since": None,
    }
    assert observe.health(running_status(), None, "error", now=NOW).reason == "failed"
    assert observe.health(None, [], "degraded", now=NOW).reason == "starting"


def test_health_of_a_failed_job_ignores_the_job_pods():
    job = {
        "kind": "Job",
        "metadata": {"name": "acme-reset-1", "namespace": "acme"},
        "status": {
            "conditions": [
                {
                    "type": "Failed",
                    "status": "True",
                    "reason": "BackoffLimitExceeded",
                    "lastTransitionTime": ts(4),
                }
            ]
        },
    }
    status = app_status([deployment(), job])
    failed_step = pod(
        "acme-reset-1-x",
        [container("verify", "waiting", reason="PodInitializing")],
        inits=[
            container(
                "copy",
                "waiting",
                reason="CrashLoopBackOff",
                restarts=1,
                last={"reason": "Error"},
            )
        ],
        labels={"job-name": "acme-reset-1"},
    )
    result = observe.health(status, [failed_step], "degraded", now=NOW)
    assert (result.state, result.reason, result.since) == (
        "problem",
        "job_failed",
        NOW - timedelta(minutes=4),
    )


# --- reset steps ------------------------------------------------------------------


def reset_job(state="running", reason="BackoffLimitExceeded"):
    job = {
        "kind": "Job",
        "metadata": {"name": "acme-int-reset-1", "namespace": "acme"},
        "spec": {
            "completions": 1,
            "template": {
                "spec": {
                    "initContainers": [
                        {"name": "copy-database"},
                        {"name": "copy-filestore"},
                        {"name": "neutralize"},
                    ],
                    "containers": [{"name": "verify"}],
                }
            },
        },
        "status": {"active": 1},
    }
    if state == "failed":
        job["status"] = {
            "failed": 1,
            "conditions": [{"type": "Failed", "status": "True", "reason": reason}],
        }
    if state == "succeeded":
        job["status"] = {"succeeded": 1}
    return job


def reset_pod(inits, main=None):
    return pod(
        "acme-int-reset-1-abcde",
        [main or container("verify", "waiting")],
        inits=inits,
        app="acme-int",
        owner=("Job", "acme-int-reset-1"),
    )


def test_reset_steps_running_at_the_second_step():
    steps = observe.reset_steps(
        reset_job(),
        [
            reset_pod(
                [
                    container("copy-database", "terminated"),
                    container("copy-filestore", "running", ready=False),
                    container("neutralize", "waiting"),
                ]
            ),
            pod("unrelated", [container("odoo")]),
        ],
    )
    assert (steps.state, steps.step, steps.total, steps.step_name, steps.failure) == (
        "running",
        2,
        4,
        "copy-filestore",
        None,
    )


def test_reset_steps_failed_out_of_memory_at_the_third_step():
    steps = observe.reset_steps(
        reset_job("failed"),
        [
            reset_pod(
                [
                    container("copy-database", "terminated"),
                    container("copy-filestore", "terminated"),
                    container(
                        "neutralize", "terminated", exit_code=137, reason="OOMKilled"
                    ),
                ]
            )
        ],
    )
    assert (steps.state, steps.step, steps.step_name, steps.failure) == (
        "failed",
        3,
        "neutralize",
        "out_of_memory",
    )


@pytest.mark.parametrize(
    "step,failure",
    [
        (container("copy-database", "waiting", reason="ImagePullBackOff"), "image"),
        (
            container("copy-database", "waiting", reason="CreateContainerConfigError"),
            "config",
        ),
        (
            container("copy-database", "terminated", exit_code=1, reason="Error"),
            "error",
        ),
        (
            container(
                "copy-database",
                "waiting",
                reason="CrashLoopBackOff",
                restarts=1,
                last={"reason": "OOMKilled"},
            ),
            "out_of_memory",
        ),
        (container("copy-database", "running", ready=False), "error"),
    ],
)
def test_reset_steps_failure_reasons(step, failure):
    steps = observe.reset_steps(reset_job("failed"), [reset_pod([step])])
    assert (steps.step, steps.failure) == (1, failure)


def test_reset_steps_deadline_succeeded_without_pods_and_missing():
    running = reset_pod([container("copy-database", "running", ready=False)])
    deadline = observe.reset_steps(reset_job("failed", "DeadlineExceeded"), [running])
    assert (deadline.step, deadline.failure) == (1, "deadline")
    done = observe.reset_steps(reset_job("succeeded"), [])
    assert (done.state, done.step, done.total, done.step_name) == (
        "succeeded",
        4,
        4,
        "verify",
    )
    queued = observe.reset_steps(reset_job(), [])
    assert (queued.state, queued.step, queued.total) == ("running", 0, 4)
    gone = observe.reset_steps(reset_job("failed", "DeadlineExceeded"), [])
    assert gone.failure == "deadline"
    all_done = reset_pod(
        [
            container(n, "terminated")
            for n in ("copy-database", "copy-filestore", "neutralize")
        ],
        container("verify", "terminated"),
    )
    finished = observe.reset_steps(reset_job("failed"), [all_done])
    assert (finished.step, finished.failure) == (4, "error")
    assert observe.reset_steps(None, []) == observe.ResetSteps()
    labelled = reset_pod([])
    labelled["metadata"].pop("ownerReferences")
    labelled["metadata"]["labels"]["batch.kubernetes.io/job-name"] = "acme-int-reset-1"
    assert observe.job_pods([labelled], "acme-int-reset-1") == [labelled]


# --- problems ---------------------------------------------------------------------


def test_app_problems_count_restarts_and_keep_the_last_warning():
    pods = [
        pod(
            "a",
            [
                container(
                    "odoo", restarts=3, last={"reason": "OOMKilled", "finished": ts(90)}
                )
            ],
        ),
        pod(
            "b",
            [
                container(
                    "odoo", restarts=1, last={"reason": "Error", "finished": ts(5)}
                )
            ],
        ),
    ]
    warnings = [
        event("Pod", "b", "BackOff", "back-off", "Warning", 4),
        event("Pod", "b", "Unhealthy", f"probe {SECRET}", "Warning", 2),
        event("Pod", "b", "Pulled", "normal events are not warnings", minutes_ago=1),
    ]
    problems = observe.app_problems(pods, warnings, NOW, secrets=[SECRET])
    assert (problems.restarts, problems.recent_restarts) == (4, 1)
    assert problems.warning["reason"] == "Unhealthy"
    assert problems.warning["message"] == "probe ********"
    assert [w["reason"] for w in problems.warnings] == ["Unhealthy", "BackOff"]
    assert problems.has_problems
    calm = observe.app_problems([pods[0]], [], NOW)
    assert not calm.has_problems and calm.restarts == 3


# --- readers against the fake API server ----------------------------------------------


def _odoo_docs(name, namespace):
    labels = {"app.kubernetes.io/instance": name}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": f"{name}-odoo", "namespace": namespace},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "odoo", "image": "odoo:17.0"}]},
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": f"{name}-secrets", "namespace": namespace},
            "stringData": {"db-password": SECRET},
        },
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": f"{name}-filestore", "namespace": namespace},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}},
            },
        },
    ]


@pytest.fixture
def kube(kube_api):
    with api_client(
        host=kube_api.url, timeout=observe.OBSERVE_TIMEOUT, retries=False
    ) as client:
        yield kube_api, client


def _deploy(kube_api, client, name, namespace="acme"):
    result = apply_app(client, name, namespace, _odoo_docs(name, namespace))
    assert result.ok, result.errors
    (pod_name,) = kube_api.start_pods("Deployment", f"{name}-odoo", namespace)
    kube_api.mark_ready("Deployment", f"{name}-odoo", namespace)
    return pod_name


def test_read_app_lists_its_objects_pods_and_events(kube):
    kube_api, client = kube
    prod_pod = _deploy(kube_api, client, "acme")
    int_pod = _deploy(kube_api, client, "acme-int")
    kube_api.add_event("acme", "Pod", prod_pod, "Started", "Started container odoo")
    kube_api.add_event("acme", "Pod", int_pod, "BackOff", "Back-off", type="Warning")
    kube_api.add_event(
        "acme", "PersistentVolumeClaim", "acme-int-filestore", "Provisioning", "x"
    )
    kube_api.add_event(
        "acme",
        "ReplicaSet",
        prod_pod.rsplit("-", 1)[0],
        "SuccessfulCreate",
        "Created pod",
    )
    kube_api.reset_requests()
    seen = observe.read_app(client, "acme", "acme")
    kinds = sorted(o["kind"] for o in seen.objects)
    assert kinds == ["Deployment", "PersistentVolumeClaim"]  # never the Secret
    assert [p["metadata"]["name"] for p in seen.pods] == [prod_pod]
    assert sorted(e["reason"] for e in seen.events) == ["Started", "SuccessfulCreate"]
    paths = [r.path for r in kube_api.requests]
    assert not any("secrets" in p or "configmaps" in p for p in paths)
    assert len(paths) == len(observe.OBJECT_KINDS) + 2
    assert all(r.method == "GET" for r in kube_api.requests)
    other = observe.read_app(client, "acme-int", "acme")
    assert sorted(e["reason"] for e in other.events) == ["BackOff", "Provisioning"]
    rows = observe.object_rows(seen.objects)
    assert rows[0]["ready"] == "1/1"


def test_read_log_with_options_and_redaction(kube):
    kube_api, client = kube
    pod_name = _deploy(kube_api, client, "acme")
    kube_api.add_log(pod_name, "acme", [f"line {i}" for i in range(300)])
    kube_api.add_log(pod_name, "acme", f"connecting with password {SECRET}")
    text = observe.read_log(client, "acme", pod_name, "odoo", secrets=[SECRET])
    lines = text.splitlines()
    assert len(lines) == observe.DEFAULT_TAIL_LINES
    assert lines[-1] == "connecting with password ********"
    assert (
        observe.read_log(
            client, "acme", pod_name, tail_lines=2, since_seconds=60
        ).splitlines()[0]
        == "line 299"
    )
    assert (
        observe.read_log(client, "acme", pod_name, tail_lines=10**9).count("\n") == 301
    )
    kube_api.crash_container(
        pod_name, "acme", reason="OOMKilled", exit_code=137, back_off=False
    )
    kube_api.add_log(pod_name, "acme", "after the restart")
    assert observe.read_log(client, "acme", pod_name) == "after the restart\n"
    previous = observe.read_log(
        client, "acme", pod_name, previous=True, tail_lines=1, timestamps=True
    )
    assert previous.endswith(f"connecting with password {SECRET}\n")  # no secrets given
    with pytest.raises(KubePermanentError) as error:
        observe.read_log(client, "acme", "missing-pod")
    assert error.value.status == 404
    assert str(error.value).startswith("Logs of acme/missing-pod: ")


def test_readers_time_out_with_a_clear_error(kube_api):
    kube_api.inject_fault("slow", times=1, delay=1.0)
    with api_client(host=kube_api.url, retries=False) as client:
        with pytest.raises(KubeTransientError) as error:
            observe.read_app(client, "acme", "acme", timeout=0.3)
    assert str(error.value) == "list Deployment in acme: the API server timed out"
    with api_client(host="http://127.0.0.1:9", retries=False) as client:
        with pytest.raises(KubeTransientError) as error:
            observe.read_log(client, "acme", "x", "odoo")
    assert str(error.value) == "Logs of acme/x/odoo: cannot reach the API server"


def test_list_items_of_an_unserved_kind_is_empty(kube):
    _kube_api, client = kube
    assert observe.list_items(client, "example.com/v1", "gadgets", "Gadget") == []
    assert (
        observe.api_path("v1", "pods", "acme", "x", "log")
        == "/api/v1/namespaces/acme/pods/x/log"
    )
    assert get_text(client, "/version").startswith("{")


def test_collect_problems_reads_pods_and_warnings_once_per_cluster(kube):
    kube_api, client = kube
    kube_api.add_pod("stray", "default", labels={"other": "x"})
    prod_pod = _deploy(kube_api, client, "acme")
    int_pod = _deploy(kube_api, client, "acme-int")
    bravo_pod = _deploy(kube_api, client, "bravo", "bravo")
    kube_api.crash_container(int_pod, "acme", reason="OOMKilled", exit_code=137)
    kube_api.add_event(
        "acme", "Pod", int_pod, "BackOff", f"Back-off {SECRET}", type="Warning", count=4
    )
    kube_api.add_event("acme", "Pod", prod_pod, "Pulled", "normal")
    kube_api.add_event(
        "bravo", "Deployment", "bravo-odoo", "Unhealthy", "probe", type="Warning"
    )
    kube_api.add_event(
        "default", "Pod", "stray", "BackOff", "not an app", type="Warning"
    )
    statuses = collect_status(client)
    kube_api.reset_requests()
    problems = observe.collect_problems(
        client, statuses, secrets={"acme-int": [SECRET]}
    )
    assert [(r.method, r.path) for r in kube_api.requests] == [
        ("GET", "/api/v1/pods"),
        ("GET", "/api/v1/events"),
    ]
    assert kube_api.requests[1].query == {"fieldSelector": "type=Warning"}
    assert sorted(problems) == ["acme", "acme-int", "bravo"]
    assert problems["acme"].warning is None and not problems["acme"].has_problems
    assert (
        problems["acme-int"].restarts == 1 and problems["acme-int"].recent_restarts == 1
    )
    assert problems["acme-int"].warning["message"] == "Back-off ********"
    assert problems["acme-int"].warning["count"] == 4
    assert problems["bravo"].warning["object"] == "Deployment/bravo-odoo"
    assert [p["metadata"]["name"] for p in problems["bravo"].pods] == [bravo_pod]
    only_bravo = observe.collect_problems(client, statuses, namespaces=["bravo"])
    assert only_bravo["bravo"].warning and only_bravo["acme"].warning is None


def test_collect_problems_of_one_namespace_lists_in_it(kube):
    """A deployment's status step reads one namespace: the pod and Warning
    event LISTs are made in it (not across the cluster), with the result the
    cluster-wide, filtered read gives."""
    kube_api, client = kube
    prod_pod = _deploy(kube_api, client, "acme")
    int_pod = _deploy(kube_api, client, "acme-int")
    _deploy(kube_api, client, "bravo", "bravo")
    kube_api.crash_container(int_pod, "acme", reason="OOMKilled", exit_code=137)
    kube_api.add_event(
        "acme", "Pod", int_pod, "BackOff", f"Back-off {SECRET}", type="Warning", count=4
    )
    kube_api.add_event("acme", "Pod", prod_pod, "Pulled", "normal")
    kube_api.add_event(
        "bravo", "Deployment", "bravo-odoo", "Unhealthy", "probe", type="Warning"
    )
    statuses = collect_status(client, namespaces=["acme"])
    now = datetime.now(timezone.utc)
    secrets = {"acme-int": [SECRET]}
    kube_api.reset_requests()

    problems = observe.collect_problems(
        client, statuses, namespaces=["acme"], now=now, secrets=secrets
    )

    assert [(r.method, r.path) for r in kube_api.requests] == [
        ("GET", "/api/v1/namespaces/acme/pods"),
        ("GET", "/api/v1/namespaces/acme/events"),
    ]
    assert kube_api.requests[0].query == {"labelSelector": APP_LABEL}
    assert kube_api.requests[1].query == {"fieldSelector": "type=Warning"}
    # Several namespaces: read across the cluster, filtered here; same result.
    kube_api.reset_requests()
    across = observe.collect_problems(
        client, statuses, namespaces=["acme", "nowhere"], now=now, secrets=secrets
    )
    assert [r.path for r in kube_api.requests] == ["/api/v1/pods", "/api/v1/events"]
    assert problems == across
    assert sorted(problems) == ["acme", "acme-int"]
    assert problems["acme-int"].warning["message"] == "Back-off ********"
    assert problems["acme-int"].restarts == 1
    assert problems["acme"].warning is None


def test_diagnose_keeps_events_and_the_failing_logs(kube):
    kube_api, client = kube
    pod_name = _deploy(kube_api, client, "acme")
    kube_api.add_log(pod_name, "acme", ["booting", f"FATAL: password {SECRET} refused"])
    kube_api.crash_container(pod_name, "acme")
    kube_api.add_event(
        "acme",
        "Pod",
        pod_name,
        "BackOff",
        "Back-off restarting",
        type="Warning",
        count=3,
    )
    healthy = kube_api.add_pod("acme-healthy", "acme", labels={APP_LABEL: "acme"})
    seen = observe.read_app(client, "acme", "acme")
    found = observe.diagnose(
        client, "acme", seen.pods + [healthy], seen.events, secrets=[SECRET]
    )
    assert found.errors == []
    assert [(e["pod"], e["container"], e["previous"]) for e in found.logs] == [
        (pod_name, "odoo", False)
    ]
    assert found.logs_text() == (
        f"==> {pod_name}/odoo <==\nbooting\nFATAL: password ******** refused"
    )
    line = found.events_text()
    assert "Warning  BackOff  Pod/" in line and line.endswith(
        "(x3): Back-off restarting"
    )
    # A log that cannot be read is noted, not raised.
    kube_api.inject_fault(500, times=1, path_contains="/log")
    broken = observe.diagnose(client, "acme", seen.pods, [])
    assert broken.logs == [] and "Internal error" in broken.errors[0]
    assert (
        observe.Diagnosis(events=[{**observe.event_row({}), "last_seen": None}])
        .events_text()
        .startswith("-  Normal")
    )


def test_app_status_dataclass_round_trip_is_untouched():
    # collect_problems only reads the AppStatus names; the status stays plain.
    assert AppStatus().to_dict()["workloads"] == []


def test_reset_steps_from_the_job_summary_of_an_app_status():
    running = reset_pod(
        [
            container("copy-database", "terminated"),
            container("copy-filestore", "running", ready=False),
        ]
    )
    summary = app_status([reset_job()]).jobs[0]
    steps = observe.reset_steps(summary, [running])
    assert (steps.state, steps.step, steps.total, steps.step_name) == (
        "running",
        2,
        3,
        "copy-filestore",
    )
    deadline = reset_job("failed", "DeadlineExceeded")
    deadline["status"]["conditions"][0]["message"] = (
        "Job was active longer than specified deadline"
    )
    failed = observe.reset_steps(app_status([deadline]).jobs[0], [running])
    assert (failed.state, failed.step, failed.failure) == ("failed", 2, "deadline")
    no_pod = observe.reset_steps(app_status([reset_job("failed")]).jobs[0], [])
    assert (no_pod.step, no_pod.total, no_pod.failure) == (0, 0, "error")


def test_collect_problems_asks_for_secrets_only_of_apps_with_warnings(kube):
    kube_api, client = kube
    _deploy(kube_api, client, "acme")
    bravo_pod = _deploy(kube_api, client, "bravo", "bravo")
    kube_api.add_event(
        "bravo", "Pod", bravo_pod, "BackOff", f"x {SECRET}", type="Warning"
    )
    asked = []

    def secrets(app):
        asked.append(app)
        return [SECRET]

    problems = observe.collect_problems(client, collect_status(client), secrets=secrets)
    assert asked == ["bravo"]
    assert problems["bravo"].warning["message"] == "x ********"
    assert [e["reason"] for e in problems["bravo"].events] == ["BackOff"]
