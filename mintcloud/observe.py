"""What is happening inside an app: its objects, pods, events and logs.

The functions at the top are pure: they take objects as the API returns them
(plain dicts, camelCase keys) and return rows an operator reads (kind, name,
ready/total, age, conditions; events warnings first; pods with restarts and
the reason of the last termination), a health summary a customer reads
(running / starting / problem, since when) and the progress of a reset Job
in steps.  Texts that come from the cluster (event messages, termination
messages, logs) pass through :func:`~mintcloud.redact.redact_text` with the
app's secret values, the rules deployments use.

The readers at the bottom are the only I/O: plain GETs through
:func:`mintcloud.kube.get_text` (no discovery) with a short timeout, a 404
read as "nothing there".  :func:`collect_problems` reads a whole cluster
(or one namespace) with one LIST of pods and one LIST of Warning events,
never one per app.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from mintcloud.apply import APP_LABEL
from mintcloud.errors import KubeApiError
from mintcloud.kube import get_text
from mintcloud.redact import redact_text
from mintcloud.status import _get, job_status, workload_status

#: Seconds a read from the Cluster tab or a log dialog may take per request.
OBSERVE_TIMEOUT = 5
#: Events older than this (seconds) are not shown; a real cluster drops
#: them after an hour anyway.
EVENT_WINDOW = 3600
DEFAULT_TAIL_LINES = 200
MAX_TAIL_LINES = 5000
#: Log lines a failed deployment keeps of its failing container.
DIAGNOSTIC_TAIL_LINES = 50
#: Seconds an app may take to become ready before "starting" is a problem.
START_GRACE = 900

#: What the Cluster tab lists per app, one LIST each: (apiVersion, plural,
#: kind).  Never Secrets or ConfigMaps: their LIST returns their data.
OBJECT_KINDS = (
    ("apps/v1", "deployments", "Deployment"),
    ("apps/v1", "statefulsets", "StatefulSet"),
    ("batch/v1", "jobs", "Job"),
    ("batch/v1", "cronjobs", "CronJob"),
    ("v1", "services", "Service"),
    ("v1", "persistentvolumeclaims", "PersistentVolumeClaim"),
    ("networking.k8s.io/v1", "ingresses", "Ingress"),
)

#: Waiting reasons of a container that cannot run, by customer reason.
IMAGE_REASONS = ("ImagePullBackOff", "ErrImagePull", "InvalidImageName")
CONFIG_REASONS = (
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
)
#: Customer health states and the reasons a summary gives.
HEALTH_STATES = ("running", "starting", "problem")
HEALTH_REASONS = (
    "running",
    "deploying",
    "starting",
    "not_ready",
    "crashing",
    "out_of_memory",
    "image",
    "config",
    "job_failed",
    "failed",
)
#: Why a reset Job failed, for its customer's words.
RESET_FAILURES = ("out_of_memory", "deadline", "image", "config", "error")
#: App states with no health to show: nothing deployed (draft), nothing sent
#: (dry-run), or no Odoo meant to run (suspended, terminated).
NO_HEALTH_STATES = ("draft", "dry-run", "suspended", "terminated")


# --- small helpers ------------------------------------------------------------


def parse_time(value):
    """An API timestamp (``2024-05-01T10:00:00Z``, with or without a fraction
    or an offset) as an aware datetime; None for anything else."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if "." in text:  # Python before 3.11 reads at most 6 fraction digits
        head, rest = text.split(".", 1)
        digits = "".join(c for c in rest if c.isdigit())
        text = f"{head}.{digits[:6].ljust(6, '0')}{rest[len(digits) :]}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment


def _now(now):
    return now or datetime.now(timezone.utc)


def age(start, now=None):
    """How long ago ``start`` was, as kubectl prints it: 45s, 12m, 5h, 3d."""
    if start is None:
        return ""
    seconds = max(0, int((_now(now) - start).total_seconds()))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 2 * 3600:
        return f"{seconds // 60}m"
    if seconds < 48 * 3600:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def _created(obj):
    return parse_time(_get(obj, "metadata", "creationTimestamp"))


def _redact(text, secrets):
    return redact_text(text, secrets) if text else text


# --- objects ------------------------------------------------------------------


def conditions_text(obj, limit=3):
    """The latest ``limit`` conditions, newest first: ``Available=True
    (MinimumReplicasAvailable)``, a message after a colon when not True."""
    conditions = sorted(
        _get(obj, "status", "conditions", default=[]),
        key=lambda c: c.get("lastTransitionTime") or c.get("lastUpdateTime") or "",
        reverse=True,
    )
    parts = []
    for cond in conditions[:limit]:
        text = f"{cond.get('type')}={cond.get('status')}"
        if cond.get("reason"):
            text += f" ({cond['reason']})"
        if cond.get("status") != "True" and cond.get("message"):
            text += f": {cond['message']}"
        parts.append(text)
    return "; ".join(parts)


def _object_state(obj):
    """``(ready, status, problem)`` of one object for the Cluster tab."""
    kind = obj.get("kind")
    status = obj.get("status") or {}
    if kind in ("Deployment", "StatefulSet"):
        work = workload_status(obj)
        text = "Available" if work["ok"] else work["message"]
        return f"{work['ready']}/{work['desired']}", text, not work["ok"]
    if kind == "Job":
        job = job_status(obj)
        completions = _get(obj, "spec", "completions", default=1)
        ready = f"{status.get('succeeded') or 0}/{completions}"
        text = {"succeeded": "Complete", "failed": "Failed", "running": "Running"}
        detail = f": {job['message']}" if job["message"] else ""
        return ready, text[job["state"]] + detail, job["state"] == "failed"
    if kind == "CronJob":
        last = status.get("lastScheduleTime")
        active = len(status.get("active") or [])
        text = f"last run {last}" if last else "never run"
        if _get(obj, "spec", "suspend"):
            text += ", suspended"
        return f"{active} active", text, False
    if kind == "PersistentVolumeClaim":
        phase = status.get("phase") or "Pending"
        return "", phase, phase != "Bound"
    if kind == "Ingress":
        lb = _get(status, "loadBalancer", "ingress", default=[])
        addresses = [e.get("ip") or e.get("hostname") for e in lb]
        text = ", ".join(a for a in addresses if a) or "no address yet"
        return "", text, False
    if kind == "Service":
        spec = obj.get("spec") or {}
        text = " ".join(
            part for part in (spec.get("type"), spec.get("clusterIP")) if part
        )
        return "", text, False
    return "", "", False


def object_row(obj, now=None):
    """One object of an app: kind, name, ready/total, status, age, conditions."""
    ready, text, problem = _object_state(obj)
    return {
        "kind": obj.get("kind") or "",
        "name": _get(obj, "metadata", "name", default=""),
        "namespace": _get(obj, "metadata", "namespace"),
        "ready": ready,
        "status": text or "",
        "age": age(_created(obj), now),
        "created": _created(obj),
        "conditions": conditions_text(obj),
        "problem": problem,
    }


def object_rows(objects, now=None):
    """Rows of :func:`object_row` in :data:`OBJECT_KINDS` order, then by name."""
    order = {kind: index for index, (_v, _p, kind) in enumerate(OBJECT_KINDS)}
    rows = [object_row(obj, now) for obj in objects]
    return sorted(rows, key=lambda r: (order.get(r["kind"], 99), r["kind"], r["name"]))


# --- pods ---------------------------------------------------------------------


def _statuses(pod, init):
    key = "initContainerStatuses" if init else "containerStatuses"
    return _get(pod, "status", key, default=[])


def container_rows(pod, secrets=()):
    """One row per init container and container of a pod, in spec order.

    Keys: ``pod``, ``container``, ``init``, ``state`` (running, waiting,
    terminated or unknown), ``reason`` (of a waiting or terminated state),
    ``ready``, ``restarts``, ``last_reason`` and ``last_exit_code`` (of the
    last termination: ``OOMKilled``, ``Error``...), ``last_finished``,
    ``message`` (redacted).
    """
    rows = []
    for init in (True, False):
        statuses = {s.get("name"): s for s in _statuses(pod, init)}
        spec_key = "initContainers" if init else "containers"
        for container in _get(pod, "spec", spec_key, default=[]):
            name = container.get("name")
            entry = statuses.get(name) or {}
            state = entry.get("state") or {}
            current = next(iter(state), "unknown")
            detail = state.get(current) or {}
            last = _get(entry, "lastState", "terminated", default={})
            rows.append(
                {
                    "pod": _get(pod, "metadata", "name", default=""),
                    "container": name,
                    "init": init,
                    "state": current,
                    "reason": detail.get("reason") or "",
                    "ready": bool(entry.get("ready")),
                    "restarts": entry.get("restartCount") or 0,
                    "exit_code": detail.get("exitCode"),
                    "last_reason": last.get("reason") or "",
                    "last_exit_code": last.get("exitCode"),
                    "last_finished": parse_time(last.get("finishedAt")),
                    "message": _redact(
                        detail.get("message") or last.get("message") or "", secrets
                    ),
                }
            )
    return rows


def pod_status_text(pod):
    """The STATUS column of ``kubectl get pods``: Running, Init:1/3,
    Init:Error, CrashLoopBackOff, OOMKilled, Completed, Terminating..."""
    if _get(pod, "metadata", "deletionTimestamp"):
        return "Terminating"
    inits = _get(pod, "spec", "initContainers", default=[])
    init_rows = [r for r in container_rows(pod) if r["init"]]
    for index, row in enumerate(init_rows):
        if row["state"] == "terminated" and row["exit_code"] == 0:
            continue
        if row["state"] == "terminated":
            return f"Init:{row['reason'] or 'Error'}"
        if row["state"] == "waiting" and row["reason"] not in ("", "PodInitializing"):
            return f"Init:{row['reason']}"
        return f"Init:{index}/{len(inits)}"
    text = _get(pod, "status", "reason") or _get(pod, "status", "phase") or "Unknown"
    running = False
    for row in reversed([r for r in container_rows(pod) if not r["init"]]):
        if row["state"] == "waiting" and row["reason"]:
            text = row["reason"]
        elif row["state"] == "terminated":
            text = row["reason"] or f"ExitCode:{row['exit_code']}"
        elif row["state"] == "running":
            running = True
    if text == "Completed" and running:
        text = "Running"
    return text


def _last_termination(rows):
    """``(reason, finished)`` of the latest termination among container rows."""
    found = []
    for row in rows:
        if row["last_reason"]:
            found.append((row["last_finished"], row["last_reason"]))
        if row["state"] == "terminated" and row["exit_code"] not in (0, None):
            found.append((None, row["reason"] or "Error"))
    if not found:
        return "", None
    epoch = datetime.min.replace(tzinfo=timezone.utc)
    finished, reason = max(found, key=lambda item: item[0] or epoch)
    return reason, finished


def pod_row(pod, now=None, secrets=()):
    """One pod: phase, kubectl status, ready/total, restarts, the reason of the
    last termination, age, and its container rows."""
    rows = container_rows(pod, secrets)
    mains = [r for r in rows if not r["init"]]
    reason, finished = _last_termination(rows)
    return {
        "name": _get(pod, "metadata", "name", default=""),
        "phase": _get(pod, "status", "phase", default="Unknown"),
        "status": pod_status_text(pod),
        "ready": f"{sum(r['ready'] for r in mains)}/{len(mains)}",
        "restarts": sum(r["restarts"] for r in rows),
        "last_reason": reason,
        "last_finished": finished,
        "age": age(_created(pod), now),
        "node": _get(pod, "spec", "nodeName", default=""),
        "containers": rows,
    }


def pod_rows(pods, now=None, secrets=()):
    return sorted((pod_row(pod, now, secrets) for pod in pods), key=lambda r: r["name"])


def failing_container(pod):
    """``(container, previous)`` whose logs tell why a pod fails, or None.

    A container waiting in back-off shows its crashed run as its current
    logs; a running container that was restarted shows it as ``previous``;
    a terminated one (a Job's step) its own.  Containers that never started
    have no logs.
    """
    for row in container_rows(pod):
        if row["state"] == "terminated" and row["exit_code"] not in (0, None):
            return row["container"], False
        if row["state"] == "waiting" and row["restarts"]:
            return row["container"], False
    for row in container_rows(pod):
        if row["state"] == "running" and row["restarts"] and row["last_reason"]:
            return row["container"], True
    return None


# --- events -------------------------------------------------------------------


def event_time(event):
    """When an event was last seen (series, lastTimestamp, eventTime, created)."""
    for value in (
        _get(event, "series", "lastObservedTime"),
        event.get("lastTimestamp"),
        event.get("eventTime"),
        _get(event, "metadata", "creationTimestamp"),
    ):
        moment = parse_time(value)
        if moment is not None:
            return moment
    return None


def event_row(event, secrets=()):
    """One event: type, reason, object (``Pod/acme-odoo-x``), message
    (redacted), count and when it was last seen."""
    involved = event.get("involvedObject") or {}
    kind, name = involved.get("kind") or "", involved.get("name") or ""
    return {
        "type": event.get("type") or "Normal",
        "reason": event.get("reason") or "",
        "kind": kind,
        "name": name,
        "namespace": involved.get("namespace") or _get(event, "metadata", "namespace"),
        "object": f"{kind}/{name}" if kind else name,
        "message": _redact((event.get("message") or "").strip(), secrets),
        "count": _get(event, "series", "count") or event.get("count") or 1,
        "last_seen": event_time(event),
    }


def event_rows(events, now=None, window=EVENT_WINDOW, secrets=()):
    """Rows of the events seen in the last ``window`` seconds: warnings first,
    then the newest first."""
    since = _now(now) - timedelta(seconds=window)
    rows = [event_row(e, secrets) for e in events]
    rows = [r for r in rows if r["last_seen"] is None or r["last_seen"] >= since]
    epoch = datetime.min.replace(tzinfo=timezone.utc)
    rows.sort(key=lambda r: r["last_seen"] or epoch, reverse=True)
    rows.sort(key=lambda r: r["type"] != "Warning")
    return rows


class EventIndex:
    """Which app an event is about, in namespaces several apps share.

    An event belongs to the app whose object it names (``add``): its
    workloads, Jobs, pods and other labelled objects, a Deployment's
    ReplicaSets (``<deployment>-<hash>``).  Other objects (a PVC, a Service
    the index does not know) go to the app whose name is the longest prefix
    of the object's name (``acme-int-filestore`` to ``acme-int``, not to
    ``acme``), as the demo manifests name every object after the app.
    """

    def __init__(self, apps_by_namespace=None):
        self._objects = {}
        self._deployments = {}
        self._apps = {ns: set(apps) for ns, apps in (apps_by_namespace or {}).items()}

    def add(self, app, namespace, kind, name):
        self._objects[(namespace, kind, name)] = app
        self._apps.setdefault(namespace, set()).add(app)
        if kind == "Deployment":
            self._deployments[(namespace, name)] = app

    def add_objects(self, app, objects):
        for obj in objects:
            self.add(
                app,
                _get(obj, "metadata", "namespace"),
                obj.get("kind"),
                _get(obj, "metadata", "name"),
            )

    def app_of(self, event):
        involved = event.get("involvedObject") or {}
        namespace = involved.get("namespace") or _get(event, "metadata", "namespace")
        kind, name = involved.get("kind"), involved.get("name") or ""
        found = self._objects.get((namespace, kind, name))
        if found:
            return found
        if kind == "ReplicaSet" and "-" in name:
            found = self._deployments.get((namespace, name.rsplit("-", 1)[0]))
            if found:
                return found
        candidates = [
            app
            for app in self._apps.get(namespace, ())
            if name == app or name.startswith(f"{app}-")
        ]
        return max(candidates, key=len) if candidates else None


def app_events(events, app, index):
    """The events of ``app`` among ``events`` (see :class:`EventIndex`)."""
    return [e for e in events if index.app_of(e) == app]


# --- health (customers) -------------------------------------------------------


@dataclass
class Health:
    """A customer's view of an app: ``running``, ``starting`` or ``problem``,
    a reason from :data:`HEALTH_REASONS` and since when (None: unknown)."""

    state: str
    reason: str
    since: datetime = None

    def to_dict(self):
        return {"state": self.state, "reason": self.reason, "since": self.since}


def is_job_pod(pod):
    return any(
        ref.get("kind") == "Job"
        for ref in _get(pod, "metadata", "ownerReferences", default=[])
    ) or "job-name" in (_get(pod, "metadata", "labels", default={}))


def _condition_time(pod, kind, status=None):
    for cond in _get(pod, "status", "conditions", default=[]):
        if cond.get("type") == kind and status in (None, cond.get("status")):
            return parse_time(cond.get("lastTransitionTime"))
    return None


def _pod_problem(pods):
    """``(reason, since)`` of the worst container problem of the app's
    long-running pods (Job pods are judged by their Job), or None."""
    found = []
    for pod in pods:
        if is_job_pod(pod):
            continue
        since = _condition_time(pod, "Ready", "False") or _created(pod)
        for row in container_rows(pod):
            if row["state"] != "waiting":
                continue
            if row["reason"] in IMAGE_REASONS:
                found.append(("image", since))
            elif row["reason"] in CONFIG_REASONS:
                found.append(("config", since))
            elif row["reason"] == "CrashLoopBackOff":
                oom = row["last_reason"] == "OOMKilled"
                found.append(("out_of_memory" if oom else "crashing", since))
    if not found:
        return None
    epoch = datetime.max.replace(tzinfo=timezone.utc)
    return min(found, key=lambda item: item[1] or epoch)


def health(status, pods=None, app_state=None, previous=None, now=None):
    """The customer's health summary of one app, or None when there is none
    to show (a draft or dry-run app).

    ``status`` is the app's :class:`~mintcloud.status.AppStatus` (None:
    nothing found), ``pods`` its pods when they were read (None: not read),
    ``app_state`` the app record's state after this report, ``previous`` the
    last :class:`Health` (its ``since`` carries over while state and reason
    stay).  Problems: a container that cannot start or keeps crashing
    (out of memory told apart), a failed Job, a failed deployment, or an
    app that is not ready :data:`START_GRACE` seconds after it began
    starting.  Otherwise an app is running when all its workloads are
    rolled out, else starting.
    """
    now = _now(now)
    if app_state in NO_HEALTH_STATES:
        return None
    pods = pods or []
    found = _pod_problem(pods)
    failed_jobs = [j for j in (status.jobs if status else []) if j["state"] == "failed"]
    if found:
        result = Health("problem", found[0], found[1])
    elif app_state == "error":
        result = Health("problem", "failed", None)
    elif failed_jobs:
        result = Health("problem", "job_failed", parse_time(failed_jobs[0]["end"]))
    elif app_state in ("queued", "deploying"):
        result = Health("starting", "deploying", None)
    elif status is not None and status.state == "running":
        ready = [_condition_time(p, "Ready", "True") for p in pods]
        ready = [t for t in ready if t]
        result = Health("running", "running", max(ready) if ready else None)
    else:
        created = [_created(p) for p in pods if not is_job_pod(p)]
        created = [t for t in created if t]
        result = Health("starting", "starting", min(created) if created else None)
    if previous is not None and previous.since is not None:
        same = (previous.state, previous.reason) == (result.state, result.reason)
        still_starting = result.reason == "starting" and previous.reason in (
            "starting",
            "not_ready",
        )
        if same or still_starting:
            result.since = previous.since
    if (
        result.reason == "starting"
        and result.since is not None
        and (now - result.since).total_seconds() > START_GRACE
    ):
        result = Health("problem", "not_ready", result.since)
    return result


# --- reset Job (customers) ----------------------------------------------------


@dataclass
class ResetSteps:
    """A reset Job in steps: its init containers, then its containers.

    ``state`` is ``running``, ``succeeded`` or ``failed`` (None: the Job is
    not there); ``step`` is 1-based (0: no pod yet), ``step_name`` the
    container of that step; ``failure`` one of :data:`RESET_FAILURES`.
    """

    state: str = None
    step: int = 0
    total: int = 0
    step_name: str = None
    failure: str = None


def job_pods(pods, job_name):
    """The pods of the Job ``job_name``, newest first."""
    found = [
        pod
        for pod in pods
        if _get(pod, "metadata", "labels", "job-name") == job_name
        or _get(pod, "metadata", "labels", "batch.kubernetes.io/job-name") == job_name
        or any(
            ref.get("kind") == "Job" and ref.get("name") == job_name
            for ref in _get(pod, "metadata", "ownerReferences", default=[])
        )
    ]
    return sorted(
        found,
        key=lambda p: _get(p, "metadata", "creationTimestamp", default=""),
        reverse=True,
    )


def _container_failure(row):
    reason = row["reason"] if row["state"] != "running" else ""
    if row["state"] == "terminated" and row["exit_code"] in (0, None):
        return None
    if row["state"] == "terminated":
        return "out_of_memory" if reason == "OOMKilled" else "error"
    if row["state"] == "waiting" and reason in IMAGE_REASONS:
        return "image"
    if row["state"] == "waiting" and reason in CONFIG_REASONS:
        return "config"
    if row["state"] == "waiting" and reason == "CrashLoopBackOff":
        return "out_of_memory" if row["last_reason"] == "OOMKilled" else "error"
    return None


def reset_steps(job, pods):
    """The progress of a reset Job from its ``pods``.

    ``job`` is the Job as the API returns it, or its summary from an
    :class:`~mintcloud.status.AppStatus` (``job_status``: name, state,
    message), or None (then the Job is not there).  Without a pod, the
    steps come from the Job's pod template when it is at hand.
    """
    if job is None:
        return ResetSteps()
    if "state" in job:  # a job_status() summary
        state, name, template = job["state"], job["name"], {}
        job_failure = _failure_of_message(job.get("message"))
    else:
        state, name = job_status(job)["state"], _get(job, "metadata", "name")
        template = _get(job, "spec", "template", default={})
        job_failure = _job_failure(job)
    pod = (job_pods(pods, name) or [None])[0]
    rows = container_rows(pod) if pod else container_rows(template)
    result = ResetSteps(state=state, total=len(rows))
    if state == "succeeded":
        result.step = result.total
        result.step_name = rows[-1]["container"] if rows else None
        return result
    if state == "failed":
        result.failure = job_failure
    for index, row in enumerate(rows if pod else (), start=1):
        failure = _container_failure(row)
        done = row["state"] == "terminated" and row["exit_code"] == 0
        if failure or not done:
            result.step, result.step_name = index, row["container"]
            if state == "failed" and job_failure != "deadline":
                result.failure = failure or job_failure
            return result
    if pod and rows:
        result.step, result.step_name = result.total, rows[-1]["container"]
    return result


def _failure_of_message(message):
    """A Job's failure from its condition message (its reason is not kept)."""
    text = (message or "").lower()
    return "deadline" if "deadline" in text else "error"


def _job_failure(job):
    for cond in _get(job, "status", "conditions", default=[]):
        if (
            cond.get("type") in ("Failed", "FailureTarget")
            and cond.get("status") == "True"
        ):
            if cond.get("reason") == "DeadlineExceeded":
                return "deadline"
    return "error"


# --- problems of every app (status cron) --------------------------------------


@dataclass
class AppProblems:
    """What the status cron stores per app beyond its status.

    ``restarts`` sums the restart counts of the app's pods,
    ``recent_restarts`` counts containers whose last termination lies in
    the event window, ``warning`` is the newest Warning event row of the
    window (redacted; None when there is none), ``warnings`` all of them,
    ``pods`` and ``events`` the raw pods and Warning events.
    """

    restarts: int = 0
    recent_restarts: int = 0
    warning: dict = None
    warnings: list = field(default_factory=list)
    pods: list = field(default_factory=list)
    events: list = field(default_factory=list)

    @property
    def has_problems(self):
        return bool(self.warning or self.recent_restarts)


def app_problems(pods, warning_events, now=None, window=EVENT_WINDOW, secrets=()):
    """:class:`AppProblems` of one app from its pods and Warning events."""
    since = _now(now) - timedelta(seconds=window)
    rows = [row for pod in pods for row in container_rows(pod)]
    warnings = [
        r
        for r in event_rows(warning_events, now, window, secrets)
        if r["type"] == "Warning"
    ]
    return AppProblems(
        events=list(warning_events),
        restarts=sum(r["restarts"] for r in rows),
        recent_restarts=sum(
            1
            for r in rows
            if r["restarts"] and r["last_finished"] and r["last_finished"] >= since
        ),
        warning=warnings[0] if warnings else None,
        warnings=warnings,
        pods=list(pods),
    )


# --- readers (I/O) ------------------------------------------------------------


def api_path(api_version, plural, namespace=None, name=None, subresource=None):
    """``/api/v1/namespaces/acme/pods/x/log``, ``/apis/apps/v1/deployments``..."""
    base = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
    parts = [base]
    if namespace:
        parts += ["namespaces", namespace]
    parts.append(plural)
    if name:
        parts.append(name)
    if subresource:
        parts.append(subresource)
    return "/".join(parts)


def list_items(
    api_client,
    api_version,
    plural,
    kind,
    namespace=None,
    label_selector=None,
    field_selector=None,
    timeout=OBSERVE_TIMEOUT,
):
    """The items of one LIST (``kind`` and ``apiVersion`` set on each).

    A kind the server does not serve (404) lists nothing.  Raises the
    classified :class:`~mintcloud.errors.KubeApiError` otherwise.
    """
    where = f" in {namespace}" if namespace else ""
    try:
        text = get_text(
            api_client,
            api_path(api_version, plural, namespace),
            {"labelSelector": label_selector, "fieldSelector": field_selector},
            what=f"list {kind}{where}",
            timeout=timeout,
        )
    except KubeApiError as error:
        if error.status == 404:
            return []
        raise
    items = json.loads(text).get("items") or []
    for item in items:
        item.setdefault("kind", kind)
        item.setdefault("apiVersion", api_version)
    return items


@dataclass
class Observation:
    """The raw API objects of one app, as read for the Cluster tab."""

    objects: list = field(default_factory=list)
    pods: list = field(default_factory=list)
    events: list = field(default_factory=list)


def read_app(api_client, app_name, namespace, timeout=OBSERVE_TIMEOUT):
    """Read one app: its labelled objects (one LIST per kind of
    :data:`OBJECT_KINDS`), its pods and the events of its namespace that
    are about them; a request takes at most ``timeout`` seconds.

    The LISTs select every app of the namespace (an integration app shares
    its production app's), so the events of one are told from the other's.
    """
    listed = []
    for api_version, plural, kind in OBJECT_KINDS:
        listed += list_items(
            api_client, api_version, plural, kind, namespace, APP_LABEL, None, timeout
        )
    pods = list_items(
        api_client, "v1", "pods", "Pod", namespace, APP_LABEL, None, timeout
    )
    events = list_items(
        api_client, "v1", "events", "Event", namespace, None, None, timeout
    )
    index = EventIndex({namespace: [app_name]})
    for obj in listed + pods:
        index.add_objects(_get(obj, "metadata", "labels", APP_LABEL), [obj])

    def own(items):
        return [
            o for o in items if _get(o, "metadata", "labels", APP_LABEL) == app_name
        ]

    return Observation(own(listed), own(pods), app_events(events, app_name, index))


def read_log(
    api_client,
    namespace,
    pod,
    container=None,
    tail_lines=DEFAULT_TAIL_LINES,
    since_seconds=None,
    previous=False,
    timestamps=False,
    timeout=OBSERVE_TIMEOUT,
    secrets=(),
):
    """The last ``tail_lines`` lines (at most :data:`MAX_TAIL_LINES`) of a
    container's log, of the last ``since_seconds`` only when given, of the
    previous (crashed) run with ``previous``; secret values masked."""
    tail = max(0, min(int(tail_lines or DEFAULT_TAIL_LINES), MAX_TAIL_LINES))
    query = {
        "container": container or None,
        "tailLines": str(tail),
        "sinceSeconds": str(int(since_seconds)) if since_seconds else None,
        "previous": "true" if previous else None,
        "timestamps": "true" if timestamps else None,
    }
    where = f"{pod}/{container}" if container else pod
    text = get_text(
        api_client,
        api_path("v1", "pods", namespace, pod, "log"),
        query,
        what=f"Logs of {namespace}/{where}{' (previous)' if previous else ''}",
        timeout=timeout,
    )
    return redact_text(text, secrets)


def collect_problems(
    api_client, statuses, namespaces=None, now=None, window=EVENT_WINDOW, secrets=None
):
    """:class:`AppProblems` of every app in ``statuses`` (``{app: AppStatus}``,
    from :func:`~mintcloud.status.collect_status`): ``{app: AppProblems}``.

    Reads the cluster with exactly one LIST of the labelled pods and one
    LIST of the Warning events; never one request per app.  ``namespaces``
    (an iterable) restricts the result: for one namespace (a deployment
    reading its app) the two LISTs are made in it, as
    :func:`~mintcloud.status.collect_status` does; otherwise across all
    namespaces and filtered here.  ``secrets`` gives an app's secret values
    (messages are redacted with them): a mapping, or a function of the app
    name, called only for apps with warnings.
    """
    wanted = set(namespaces) if namespaces is not None else None
    only = next(iter(wanted)) if wanted is not None and len(wanted) == 1 else None
    pods = list_items(api_client, "v1", "pods", "Pod", only, APP_LABEL, None, None)
    events = list_items(
        api_client, "v1", "events", "Event", only, None, "type=Warning", None
    )
    index = EventIndex()
    for app, status in statuses.items():
        for kind, items in (
            (None, status.workloads),
            ("Ingress", status.ingresses),
            ("Job", status.jobs),
        ):
            for item in items:
                index.add(app, item["namespace"], kind or item["kind"], item["name"])
    pods_by_app = {}
    for pod in pods:
        app = _get(pod, "metadata", "labels", APP_LABEL)
        namespace = _get(pod, "metadata", "namespace")
        if app and (wanted is None or namespace in wanted):
            pods_by_app.setdefault(app, []).append(pod)
            index.add(app, namespace, "Pod", _get(pod, "metadata", "name"))
    events_by_app = {}
    for event in events:
        namespace = _get(event, "metadata", "namespace")
        app = index.app_of(event)
        if app and (wanted is None or namespace in wanted):
            events_by_app.setdefault(app, []).append(event)
    apps = set(statuses) | set(pods_by_app) | set(events_by_app)
    if secrets is None:
        secrets = {}
    secrets_of = secrets if callable(secrets) else lambda app: secrets.get(app, ())
    return {
        app: app_problems(
            pods_by_app.get(app, []),
            events_by_app.get(app, []),
            now,
            window,
            secrets_of(app) if events_by_app.get(app) else (),
        )
        for app in sorted(apps)
    }


@dataclass
class Diagnosis:
    """Why a deployment or a reset failed, in the words of the cluster:
    the relevant events and the failing container's last log lines, both
    redacted; ``errors`` lists what could not be read."""

    events: list = field(default_factory=list)
    logs: list = field(default_factory=list)
    errors: list = field(default_factory=list)

    def events_text(self):
        return "\n".join(_event_line(row) for row in self.events)

    def logs_text(self):
        return "\n\n".join(
            f"==> {entry['pod']}/{entry['container']}"
            f"{' (previous run)' if entry['previous'] else ''} <==\n{entry['text']}"
            for entry in self.logs
        ).rstrip("\n")


def _event_line(row):
    """``2026-05-01 10:00:00  Warning  BackOff  Pod/x (x5): message``."""
    seen = row["last_seen"].strftime("%Y-%m-%d %H:%M:%S") if row["last_seen"] else "-"
    count = f" (x{row['count']})" if row["count"] > 1 else ""
    return (
        f"{seen}  {row['type']}  {row['reason']}  {row['object']}{count}: "
        f"{row['message']}"
    )


def diagnose(
    api_client,
    namespace,
    pods,
    events,
    now=None,
    secrets=(),
    tail_lines=DIAGNOSTIC_TAIL_LINES,
    timeout=OBSERVE_TIMEOUT,
    max_pods=2,
):
    """A :class:`Diagnosis` from already read ``pods`` and ``events``: the
    events rows (warnings first) and the last log lines of the failing
    container of up to ``max_pods`` failing pods (one GET each).  A log that
    cannot be read is noted in ``errors``, never raised."""
    result = Diagnosis(events=event_rows(events, now, secrets=secrets))
    for pod in pods:
        if len(result.logs) >= max_pods:
            break
        found = failing_container(pod)
        if not found:
            continue
        container, previous = found
        name = _get(pod, "metadata", "name")
        try:
            text = read_log(
                api_client,
                namespace,
                name,
                container,
                tail_lines,
                previous=previous,
                timeout=timeout,
                secrets=secrets,
            )
        except KubeApiError as error:
            result.errors.append(redact_text(str(error), secrets))
            continue
        result.logs.append(
            {"pod": name, "container": container, "previous": previous, "text": text}
        )
    return result
