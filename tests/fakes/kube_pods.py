"""Pods, container statuses, Events and container logs of the fake Kubernetes API.

Pure helpers over plain dicts, used by the store and the server's test
helpers: the Pod a workload controller would create from a pod template,
container statuses in the shapes a kubelet writes (running, waiting,
terminated, with ``lastState`` and ``restartCount``), the pod phase and
conditions that follow from them, core ``v1`` Event bodies (the classic
``count``/``lastTimestamp`` form and the ``series``/``eventTime`` form newer
components write), and the log subresource's line selection (``tailLines``,
``sinceSeconds``, ``sinceTime``, ``timestamps``, ``limitBytes``).

What this does not model: no kubelet or scheduler runs, so nothing changes
by itself (tests call the server's helpers); no node, IP allocation beyond a
fixed address, probes, resource usage, or ephemeral containers; log
``follow`` (streaming) and ``insecureSkipTLSVerifyBackend`` are not
supported; a pod's logs live as long as the pod, and only the last two runs
of a container (current and ``previous``) can be read, as on a node.
"""

import hashlib
import random
import string
from datetime import datetime, timedelta, timezone

from tests.fakes import kube_dicts as d


def utcnow():
    return datetime.now(timezone.utc)


def stamp(moment=None):
    """An API timestamp (seconds, ``Z``) of ``moment`` (default: now)."""
    return (moment or utcnow()).strftime("%Y-%m-%dT%H:%M:%SZ")


def micro_stamp(moment=None):
    """A MicroTime (``eventTime``): microseconds, ``Z``."""
    return (moment or utcnow()).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_stamp(text):
    """An API timestamp (with or without fraction) as an aware datetime."""
    text = text.rstrip("Z")
    fmt = "%Y-%m-%dT%H:%M:%S.%f" if "." in text else "%Y-%m-%dT%H:%M:%S"
    return datetime.strptime(text, fmt).replace(tzinfo=timezone.utc)


def _suffix(size=5, seed=None):
    chars = string.ascii_lowercase + string.digits
    if seed is not None:
        digest = hashlib.sha256(seed.encode()).hexdigest()
        return "".join(chars[int(digest[i : i + 2], 16) % 36] for i in range(size))
    return "".join(random.choices(chars, k=size))


# --- pods -----------------------------------------------------------------------


def pod_name(owner_kind, owner_name, index, template):
    """The name a controller gives the ``index``-th pod of ``owner_name``."""
    if owner_kind == "StatefulSet":
        return f"{owner_name}-{index}"
    if owner_kind == "Deployment":  # <deployment>-<ReplicaSet hash>-<random>
        return f"{owner_name}-{_suffix(10, repr(template))}-{_suffix()}"
    return f"{owner_name}-{_suffix()}"


def pod_body(name, namespace, template, owner=None, extra_labels=None):
    """A Pod from a pod ``template`` (``metadata``/``spec``), owned by ``owner``.

    ``owner`` is the owning object (its kind, name and uid become the
    ``ownerReferences``; a Job's pods also get the ``job-name`` labels the
    Job controller sets).
    """
    meta = dict(template.get("metadata") or {})
    labels = dict(meta.get("labels") or {})
    labels.update(extra_labels or {})
    metadata = {"name": name, "namespace": namespace, "labels": labels}
    if meta.get("annotations"):
        metadata["annotations"] = dict(meta["annotations"])
    if owner is not None:
        kind = owner["kind"]
        owner_name = owner["metadata"]["name"]
        if kind == "Job":
            labels.setdefault("job-name", owner_name)
            labels.setdefault("batch.kubernetes.io/job-name", owner_name)
        if kind == "Deployment":  # pods are owned by the ReplicaSet
            kind, owner_name = "ReplicaSet", name.rsplit("-", 1)[0]
        metadata["ownerReferences"] = [
            {
                "apiVersion": "apps/v1" if kind != "Job" else "batch/v1",
                "kind": kind,
                "name": owner_name,
                "uid": owner["metadata"].get("uid", ""),
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    spec = dict(template.get("spec") or {})
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("nodeName", "node-1")
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}


def container_state(state, reason=None, message=None, exit_code=None, started=None):
    """A ``state`` (or ``lastState``) entry: running, waiting or terminated."""
    started = started if isinstance(started, str) else stamp(started)
    if state == "running":
        return {"running": {"startedAt": started}}
    if state == "waiting":
        entry = {"reason": reason or "ContainerCreating"}
        if message:
            entry["message"] = message
        return {"waiting": entry}
    if state == "terminated":
        code = 0 if exit_code is None else exit_code
        entry = {
            "exitCode": code,
            "reason": reason or ("Completed" if code == 0 else "Error"),
            "startedAt": started,
            "finishedAt": stamp(),
            "containerID": f"containerd://{_suffix(12)}",
        }
        if message:
            entry["message"] = message
        return {"terminated": entry}
    raise ValueError(f"unknown container state {state!r}")


def container_status(container, state="running", ready=None, **details):
    """A fresh ``containerStatuses`` entry of a container spec."""
    return {
        "name": container["name"],
        "image": container.get("image", ""),
        "imageID": "",
        "ready": (state == "running") if ready is None else ready,
        "restartCount": 0,
        "started": state == "running",
        "state": container_state(state, **details),
        "lastState": {},
    }


def initial_statuses(spec, running):
    """Container statuses of a new pod.

    ``running=True``: init containers completed, containers running and
    ready (a pod of a Deployment that came up).  ``running=False``: the pod
    is at its first step: the first init container (or, without init
    containers, every container) runs, the rest wait.
    """
    inits = spec.get("initContainers") or []
    mains = spec.get("containers") or []
    if running:
        init_statuses = [
            container_status(c, "terminated", ready=False, reason="Completed")
            for c in inits
        ]
        return init_statuses, [container_status(c) for c in mains]
    init_statuses = [
        container_status(c, "running", ready=False)
        if index == 0
        else container_status(c, "waiting", reason="PodInitializing")
        for index, c in enumerate(inits)
    ]
    main_statuses = [
        container_status(c, "waiting", reason="PodInitializing")
        if inits
        else container_status(c)
        for c in mains
    ]
    return init_statuses, main_statuses


def _terminated(status):
    return status.get("state", {}).get("terminated")


def _phase(pod):
    status = pod.get("status") or {}
    policy = pod["spec"].get("restartPolicy", "Always")
    inits = status.get("initContainerStatuses") or []
    mains = status.get("containerStatuses") or []
    if any(
        _terminated(s) and _terminated(s)["exitCode"] != 0 and policy == "Never"
        for s in inits
    ):
        return "Failed"
    if not all(_terminated(s) and _terminated(s)["exitCode"] == 0 for s in inits):
        return "Pending"
    if mains and all(_terminated(s) for s in mains):
        if all(_terminated(s)["exitCode"] == 0 for s in mains):
            return "Succeeded"
        if policy == "Never":
            return "Failed"
    started = [
        s
        for s in mains
        if "waiting" not in s.get("state", {})
        or s.get("lastState")
        or s["restartCount"]
    ]
    return "Running" if started else "Pending"


def derive_pod_status(old, pod):
    """Set ``phase`` and the conditions from the container statuses.

    A condition keeps its ``lastTransitionTime`` while its status stays.
    """
    status = pod.setdefault("status", {})
    status["phase"] = _phase(pod)
    status.setdefault("hostIP", "192.0.2.10")
    status.setdefault("podIP", "10.244.0.10")
    status.setdefault("startTime", stamp())
    inits = status.get("initContainerStatuses") or []
    mains = status.get("containerStatuses") or []
    initialized = all(_terminated(s) and _terminated(s)["exitCode"] == 0 for s in inits)
    ready = bool(mains) and all(s.get("ready") for s in mains)
    if status["phase"] in ("Succeeded", "Failed"):
        ready = False
    before = {
        c["type"]: c for c in ((old or {}).get("status") or {}).get("conditions") or []
    }
    conditions = []
    for kind, value, reason in (
        (
            "Initialized",
            initialized,
            None if initialized else "ContainersNotInitialized",
        ),
        ("Ready", ready, None if ready else "ContainersNotReady"),
        ("ContainersReady", ready, None if ready else "ContainersNotReady"),
        ("PodScheduled", True, None),
    ):
        text = "True" if value else "False"
        previous = before.get(kind)
        since = (
            previous["lastTransitionTime"]
            if previous and previous.get("status") == text
            else stamp()
        )
        condition = {"type": kind, "status": text, "lastTransitionTime": since}
        if reason:
            condition["reason"] = reason
        conditions.append(condition)
    status["conditions"] = conditions
    return pod


def find_container_status(pod, container):
    """``(statuses list, index)`` of ``container`` in a pod, or ``(None, None)``."""
    status = pod.get("status") or {}
    for key in ("containerStatuses", "initContainerStatuses"):
        for index, entry in enumerate(status.get(key) or []):
            if entry["name"] == container:
                return status[key], index
    return None, None


def container_names(pod):
    """``(containers, init containers)`` names of a pod spec."""
    spec = pod.get("spec") or {}
    return (
        [c["name"] for c in spec.get("containers") or []],
        [c["name"] for c in spec.get("initContainers") or []],
    )


# --- events ---------------------------------------------------------------------


def event_body(
    namespace,
    involved,
    reason,
    message,
    type_="Normal",
    count=1,
    first_seen=None,
    last_seen=None,
    component="kubelet",
    series=False,
    field_path=None,
):
    """A core ``v1`` Event about ``involved`` (a dict: apiVersion, kind, name,
    namespace, uid).

    ``series=False`` gives the classic form (``count``, ``firstTimestamp``,
    ``lastTimestamp``); ``series=True`` the form of components using
    ``events.k8s.io``: ``eventTime`` and ``series`` set, the timestamps null.
    """
    last_seen = last_seen or utcnow()
    first_seen = first_seen or last_seen
    ref = {k: v for k, v in involved.items() if v}
    if field_path:
        ref["fieldPath"] = field_path
    body = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": f"{involved['name']}.{_suffix(16).replace('-', '0')}",
            "namespace": namespace,
        },
        "involvedObject": ref,
        "reason": reason,
        "message": message,
        "type": type_,
        "source": {"component": component},
        "reportingComponent": component,
        "reportingInstance": "",
    }
    if series:
        body.update(
            eventTime=micro_stamp(first_seen),
            firstTimestamp=None,
            lastTimestamp=None,
            action=reason,
        )
        if count > 1:
            body["series"] = {
                "count": count,
                "lastObservedTime": micro_stamp(last_seen),
            }
    else:
        body.update(
            count=count,
            firstTimestamp=stamp(first_seen),
            lastTimestamp=stamp(last_seen),
            eventTime=None,
        )
    return body


# --- logs -----------------------------------------------------------------------


def _flag(query, name):
    value = (query.get(name) or "false").lower()
    if value not in ("true", "false", "1", "0"):
        raise d.bad_request(f"{name}: invalid boolean value {query.get(name)!r}")
    return value in ("true", "1")


def _positive(query, name, minimum):
    raw = query.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except ValueError:
        raise d.bad_request(f"{name}: invalid integer {raw!r}") from None
    if value < minimum:
        raise d.KubeStatusError(
            422,
            "Invalid",
            f'PodLogOptions "" is invalid: {name}: Invalid value: {value}: '
            f"must be {'greater than' if minimum == 1 else 'greater than or equal to'}"
            f" {minimum - 1 if minimum == 1 else minimum}",
        )
    return value


def log_options(query):
    """The PodLogOptions of a query, validated as the API server does."""
    if _flag(query, "follow"):
        raise d.bad_request("follow is not supported by the fake API server")
    since_seconds = _positive(query, "sinceSeconds", 1)
    since_time = query.get("sinceTime") or None
    if since_seconds is not None and since_time:
        raise d.KubeStatusError(
            422,
            "Invalid",
            'PodLogOptions "" is invalid: sinceSeconds: Forbidden: at most one of '
            "sinceTime or sinceSeconds may be specified",
        )
    since = None
    if since_seconds is not None:
        since = utcnow() - timedelta(seconds=since_seconds)
    elif since_time:
        try:
            since = parse_stamp(since_time)
        except ValueError:
            raise d.bad_request(f"sinceTime: invalid time {since_time!r}") from None
    return {
        "container": query.get("container") or None,
        "previous": _flag(query, "previous"),
        "timestamps": _flag(query, "timestamps"),
        "tail": _positive(query, "tailLines", 0),
        "limit_bytes": _positive(query, "limitBytes", 1),
        "since": since,
    }


def select_log(lines, options):
    """The text the log subresource returns for ``lines`` ([(datetime, text)])."""
    if options["since"] is not None:
        lines = [(at, text) for at, text in lines if at >= options["since"]]
    if options["tail"] is not None:
        lines = lines[-options["tail"] :] if options["tail"] else []
    if options["timestamps"]:
        out = "".join(
            f"{at.strftime('%Y-%m-%dT%H:%M:%S.%f')}000Z {text}\n" for at, text in lines
        )
    else:
        out = "".join(f"{text}\n" for _at, text in lines)
    if options["limit_bytes"] is not None:
        out = out.encode()[: options["limit_bytes"]].decode("utf-8", "ignore")
    return out
