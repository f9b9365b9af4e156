"""Status of deployed apps, read from Kubernetes API objects.

The functions at the top are pure: they take objects as the API returns them
(plain dicts, camelCase keys) and return plain dicts.  :func:`collect_status`
is the only function doing I/O: it lists every labelled object of a few
kinds across the cluster, with exactly one LIST request per kind, and groups
the objects by the value of the app label.
"""

from dataclasses import asdict, dataclass, field

from mintcloud.apply import APP_LABEL
from mintcloud.errors import KubePermanentError
from mintcloud.kube import call, dynamic_client, read_json, resource_for

WORKLOAD_KINDS = ("Deployment", "StatefulSet")

# apiVersion of the kinds collect_status can list.
KIND_API_VERSIONS = {
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
    "Ingress": "networking.k8s.io/v1",
}


# --- small helpers ------------------------------------------------------------


def _get(obj, *path, default=None):
    """``obj[path[0]][path[1]]…`` or ``default`` when a key is missing or None."""
    for key in path:
        if not isinstance(obj, dict):
            return default
        obj = obj.get(key)
        if obj is None:
            return default
    return obj


def _unique(values):
    """The values without duplicates and empties, in first-seen order."""
    seen = []
    for value in values:
        if value and value not in seen:
            seen.append(value)
    return seen


def _condition(obj, type_):
    """The status condition of the given type, or None."""
    for cond in _get(obj, "status", "conditions", default=[]):
        if cond.get("type") == type_:
            return cond
    return None


def _is_true(cond):
    return bool(cond) and cond.get("status") == "True"


def _host_covered(host, tls_hosts):
    """True when ``host`` is named by a TLS entry, directly or by a ``*.`` wildcard."""
    if host in tls_hosts:
        return True
    parent = host.split(".", 1)[1] if "." in host else None
    return parent is not None and f"*.{parent}" in tls_hosts


# --- one object ---------------------------------------------------------------


def ingress_status(obj):
    """Hosts, load-balancer addresses and TLS coverage of one Ingress.

    ``tls_ready`` is True when there is at least one host, every host is
    covered by a ``spec.tls`` entry and the controller assigned an address.
    """
    hosts = _unique(rule.get("host") for rule in _get(obj, "spec", "rules", default=[]))
    tls_hosts = _unique(
        host
        for tls in _get(obj, "spec", "tls", default=[])
        for host in tls.get("hosts") or []
    )
    lb = _get(obj, "status", "loadBalancer", "ingress", default=[])
    addresses = _unique(entry.get("ip") or entry.get("hostname") for entry in lb)
    return {
        "name": _get(obj, "metadata", "name"),
        "namespace": _get(obj, "metadata", "namespace"),
        "hosts": hosts,
        "addresses": addresses,
        "tls_hosts": tls_hosts,
        "tls_ready": bool(hosts)
        and bool(addresses)
        and all(_host_covered(h, tls_hosts) for h in hosts),
    }


def _rollout_message(obj, desired, updated, ready, available):
    """Why a Deployment/StatefulSet is not rolled out yet (None when it is).

    Follows the checks of ``kubectl rollout status``.
    """
    generation = _get(obj, "metadata", "generation", default=0)
    observed = _get(obj, "status", "observedGeneration", default=0)
    if observed < generation:
        return "waiting for the controller to observe the new spec"
    progressing = _condition(obj, "Progressing")
    if progressing and progressing.get("reason") == "ProgressDeadlineExceeded":
        return progressing.get("message") or "progress deadline exceeded"
    if obj.get("kind") == "StatefulSet":
        status = obj.get("status") or {}
        strategy = _get(obj, "spec", "updateStrategy", default={})
        # Partitioned or OnDelete updates never finish by themselves.
        rolling = strategy.get("type", "RollingUpdate") == "RollingUpdate" and not (
            _get(strategy, "rollingUpdate", "partition", default=0)
        )
        if (
            rolling
            and status.get("updateRevision")
            and status.get("currentRevision") != status.get("updateRevision")
            and updated < desired
        ):
            return f"{updated} of {desired} pods updated"
    elif updated < desired:
        return f"{updated} of {desired} replicas updated"
    elif _get(obj, "status", "replicas", default=0) > updated:
        old = _get(obj, "status", "replicas", default=0) - updated
        return f"{old} old replicas pending termination"
    if ready < desired:
        return f"{ready} of {desired} replicas ready"
    if available < desired:
        return f"{available} of {desired} replicas available"
    return None


def workload_status(obj):
    """Desired/ready/available replicas of a Deployment or StatefulSet.

    ``ok`` is True when the rollout is complete: the controller saw the
    current spec, all replicas are updated, ready and available.
    ``message`` says why not (None when ok).
    """
    desired = _get(obj, "spec", "replicas", default=1)
    status = obj.get("status") or {}
    ready = status.get("readyReplicas") or 0
    # StatefulSets report availableReplicas only since Kubernetes 1.22.
    available = status.get("availableReplicas", ready) or 0
    kind = obj.get("kind")
    if kind == "StatefulSet":
        updated = status.get("updatedReplicas", status.get("currentReplicas")) or 0
    else:
        updated = status.get("updatedReplicas") or 0
    message = _rollout_message(obj, desired, updated, ready, available)
    return {
        "kind": kind,
        "name": _get(obj, "metadata", "name"),
        "namespace": _get(obj, "metadata", "namespace"),
        "desired": desired,
        "ready": ready,
        "available": available,
        "updated": updated,
        "ok": message is None,
        "message": message,
    }


def job_status(obj):
    """State of one Job: ``running``, ``succeeded`` or ``failed``.

    ``message`` is the reason of a failure (the condition message), ``start``
    and ``end`` are the API timestamps (ISO 8601 strings) or None.
    """
    status = obj.get("status") or {}
    failed = _condition(obj, "Failed") or _condition(obj, "FailureTarget")
    complete = _condition(obj, "Complete") or _condition(obj, "SuccessCriteriaMet")
    completions = _get(obj, "spec", "completions", default=1)
    end = status.get("completionTime")
    message = None
    if _is_true(failed):
        state = "failed"
        message = failed.get("message") or failed.get("reason")
        end = end or failed.get("lastTransitionTime")
    elif _is_true(complete) or (status.get("succeeded") or 0) >= completions:
        state = "succeeded"
    else:
        state = "running"
        if status.get("failed"):
            message = f"{status['failed']} failed attempt(s), retrying"
    return {
        "name": _get(obj, "metadata", "name"),
        "namespace": _get(obj, "metadata", "namespace"),
        "state": state,
        "message": message,
        "start": status.get("startTime"),
        "end": end,
    }


# --- one app ------------------------------------------------------------------


@dataclass
class AppStatus:
    """What the Odoo app record shows.

    ``state`` is ``running`` (all workloads rolled out, no failed job),
    ``degraded`` (a workload is not ready or a job failed) or ``pending``
    (nothing reported yet: no workload and no job, or no controller has
    written a status yet).
    """

    state: str = "pending"
    namespace: str = None
    ready: int = 0
    desired: int = 0
    hosts: list = field(default_factory=list)
    addresses: list = field(default_factory=list)
    tls_hosts: list = field(default_factory=list)
    tls_ready: bool = False
    workloads: list = field(default_factory=list)
    ingresses: list = field(default_factory=list)
    jobs: list = field(default_factory=list)
    message: str = None

    def to_dict(self):
        return asdict(self)


def _has_reported(obj):
    """True once a controller wrote a status into the object."""
    return bool(obj.get("status"))


def _state(objects, workloads, jobs):
    """running / degraded / pending, and the first reason for not running."""
    if any(j["state"] == "failed" for j in jobs):
        failed = next(j for j in jobs if j["state"] == "failed")
        reason = f": {failed['message']}" if failed["message"] else ""
        return "degraded", f"Job {failed['name']} failed{reason}"
    reported = [
        o for o in objects if o.get("kind") in WORKLOAD_KINDS and _has_reported(o)
    ]
    if not workloads and not jobs:
        return "pending", "nothing deployed yet"
    if workloads and not reported:
        return "pending", "waiting for the first status report"
    not_ok = [w for w in workloads if not w["ok"]]
    if not_ok:
        w = not_ok[0]
        return "degraded", f"{w['kind']} {w['name']}: {w['message']}"
    if not workloads and any(j["state"] == "running" for j in jobs):
        return "pending", "job running"
    return "running", None


def app_status(objects):
    """Summarise the API objects of one app into an :class:`AppStatus`.

    ``objects`` are Deployments, StatefulSets, Ingresses and Jobs (each with
    its ``kind``); other kinds are ignored.  Jobs owned by a CronJob only
    count with their latest run per CronJob.
    """
    objects = list(objects)
    workloads = [workload_status(o) for o in objects if o.get("kind") in WORKLOAD_KINDS]
    ingresses = [ingress_status(o) for o in objects if o.get("kind") == "Ingress"]
    jobs = [
        job_status(o)
        for o in _latest_jobs(o for o in objects if o.get("kind") == "Job")
    ]
    state, message = _state(objects, workloads, jobs)
    namespaces = _unique(_get(o, "metadata", "namespace") for o in objects)
    return AppStatus(
        state=state,
        namespace=namespaces[0] if namespaces else None,
        ready=sum(w["ready"] for w in workloads),
        desired=sum(w["desired"] for w in workloads),
        hosts=_unique(h for i in ingresses for h in i["hosts"]),
        addresses=_unique(a for i in ingresses for a in i["addresses"]),
        tls_hosts=_unique(h for i in ingresses for h in i["tls_hosts"]),
        tls_ready=bool(ingresses) and all(i["tls_ready"] for i in ingresses),
        workloads=workloads,
        ingresses=ingresses,
        jobs=jobs,
        message=message,
    )


def _latest_jobs(jobs):
    """Standalone Jobs, plus only the newest Job of each owning CronJob.

    An old failed run of a CronJob must not mark the app degraded forever
    once a later run succeeded.
    """
    standalone, latest = [], {}
    for job in jobs:
        owner = next(
            (
                ref.get("uid") or ref.get("name")
                for ref in _get(job, "metadata", "ownerReferences", default=[])
                if ref.get("kind") == "CronJob"
            ),
            None,
        )
        if owner is None:
            standalone.append(job)
            continue
        created = _get(job, "metadata", "creationTimestamp", default="")
        if owner not in latest or created >= _get(
            latest[owner], "metadata", "creationTimestamp", default=""
        ):
            latest[owner] = job
    return standalone + list(latest.values())


# --- collector (I/O) ----------------------------------------------------------


def _slim(obj):
    """The parts of an object :func:`app_status` reads."""
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    return {
        "kind": obj.get("kind"),
        "apiVersion": obj.get("apiVersion"),
        "metadata": {
            key: meta[key]
            for key in (
                "name",
                "namespace",
                "generation",
                "creationTimestamp",
                "ownerReferences",
            )
            if key in meta
        },
        "spec": {
            key: spec[key]
            for key in ("replicas", "completions", "rules", "tls")
            if key in spec
        },
        "status": obj.get("status") or {},
    }


#: Items per LIST page: memory stays flat however many apps a cluster runs.
PAGE_SIZE = 500


def list_labelled(
    api_client,
    kinds,
    label_selector=APP_LABEL,
    dyn=None,
    namespace=None,
    page_size=PAGE_SIZE,
):
    """All objects of ``kinds`` matching ``label_selector``: an iterator.

    A kind is a name (its apiVersion from :data:`KIND_API_VERSIONS`, else
    ``v1``) or an ``(apiVersion, kind)`` pair.  One LIST per kind (across
    namespaces, or in ``namespace``), paged with ``limit`` and ``continue``
    (``page_size`` items a request), so a cluster with many apps is read in
    bounded memory.  Items get their ``kind`` and
    ``apiVersion`` set (the API omits them in list items).  Kinds the server
    does not serve are skipped.  Raises a classified :class:`KubeApiError`.
    """
    dyn = dyn or dynamic_client(api_client)
    for kind in kinds:
        if isinstance(kind, str):
            api_version = KIND_API_VERSIONS.get(kind, "v1")
        else:
            api_version, kind = kind
        try:
            resource = resource_for(dyn, api_version, kind)
        except KubePermanentError as err:
            if err.reason == "UnknownKind":
                continue
            raise
        token = None
        while True:
            listed = call(
                f"list {kind}" + (f" in {namespace}" if namespace else ""),
                resource.get,
                namespace=namespace,
                label_selector=label_selector,
                limit=page_size,
                _continue=token,
                serialize=False,
            )
            data = read_json(listed)
            for item in data.get("items") or []:
                item.setdefault("kind", kind)
                item.setdefault("apiVersion", api_version)
                yield item
            token = (data.get("metadata") or {}).get("continue")
            if not token:
                break


def collect_status(
    api_client, namespaces=None, kinds=("Deployment", "StatefulSet", "Ingress", "Job")
):
    """Status of every app in the cluster: ``{app_name: AppStatus}``.

    Issues one LIST per kind with the label selector ``APP_LABEL`` (label
    exists), paged, and groups the objects by the label value; never one
    request per app.  ``namespaces`` (an iterable) restricts the result to
    those namespaces: for one namespace (a deployment reading its app) the
    LISTs are made in it; for several, across the cluster and filtered here.
    """
    wanted = set(namespaces) if namespaces is not None else None
    only = next(iter(wanted)) if wanted is not None and len(wanted) == 1 else None
    by_app = {}
    for obj in list_labelled(api_client, kinds, namespace=only):
        if wanted is not None and _get(obj, "metadata", "namespace") not in wanted:
            continue
        app = _get(obj, "metadata", "labels", APP_LABEL)
        if app:
            # Keep what a status needs, not the whole object (pod template,
            # managedFields): a page is dropped as soon as it is read.
            by_app.setdefault(app, []).append(_slim(obj))
    return {app: app_status(objs) for app, objs in sorted(by_app.items())}
