"""A stateful fake Kubernetes API server for the real ``kubernetes`` client.

:class:`FakeKubeServer` listens on 127.0.0.1 (free port) and answers the REST
API of the kinds in :mod:`tests.fakes.kube_resources` like a real API server:
discovery, create/get/list/replace/patch/apply/delete/deletecollection,
label and field selectors, the status subresource, optimistic concurrency,
server-side apply with field managers and conflicts, dry runs, and errors as
``v1 Status`` bodies.  Tests play the controllers (:meth:`mark_ready`,
:meth:`set_ingress_address`, :meth:`finish_job`), inject faults
(:meth:`inject_fault`) and inspect the state (:meth:`get_object`,
:meth:`list_objects`, :attr:`requests`).

Pods, Events and logs (see :mod:`tests.fakes.kube_pods`): Pods carry
container statuses (``restartCount``, ``state``/``lastState`` with
``terminated.reason`` such as ``OOMKilled`` and ``waiting.reason`` such as
``CrashLoopBackOff``), their phase and conditions follow from them.  Events
are core ``v1`` objects, listed per namespace or across all of them, with
field selectors on ``involvedObject.*``, ``reason``, ``type``, ``source``
(and a Pod's ``status.phase``, ``spec.nodeName``, ``spec.restartPolicy``).
``GET /api/v1/namespaces/<ns>/pods/<name>/log`` answers ``text/plain`` with
``container``, ``tailLines``, ``sinceSeconds``/``sinceTime``, ``previous``,
``timestamps`` and ``limitBytes``, and the API server's 400s (no container
named in a pod with several, no previous run, a container waiting to
start).  Tests play the kubelet and the controllers: :meth:`add_pod`,
:meth:`start_pods` (the pods of a Deployment, StatefulSet or Job from its
template), :meth:`set_container_state`, :meth:`crash_container`,
:meth:`add_log` and :meth:`add_event`.

Not modelled: no controller makes, replaces or deletes Pods by itself (only
:meth:`start_pods` does, when a test calls it), nothing emits Events by
itself, ReplicaSets are not served (a Deployment's pods name one), the
kubelet does not run (no probes, no restarts unless a test crashes a
container), log ``follow`` is refused, a Job's status does not follow its
pods (:meth:`finish_job`), Events are never expired (a real cluster drops
them after an hour) and no ``events.k8s.io`` API is served.

Notes for users of the real client:

* ``DynamicClient`` caches discovery in ``$TMPDIR/osrcp-<md5(host)>.json``.
  Each server has its own port, hence its own cache file, but a port can be
  reused by a later run: pass ``cache_file=str(tmp_path / "discovery.json")``
  to ``DynamicClient`` in tests to stay independent of old files.
* urllib3 (default ``Retry(3)``) retries idempotent requests (GET, PUT,
  DELETE) up to 3 times after a connection reset or read timeout, and after a
  429 carrying ``Retry-After`` (sleeping that second first).  To make such a
  request fail with the ``"reset"``, ``"slow"`` or 429 fault, inject it
  ``times=4`` (or more), or set ``Configuration.retries = False`` in the
  client under test; POST and PATCH are never retried, so ``times=1`` fails
  them.
* List items carry neither ``kind`` nor ``apiVersion`` (as on a real cluster);
  :meth:`FakeKubeServer.list_objects` returns the full stored objects.
"""

import collections
import json
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import yaml
from kubernetes import client
from kubernetes.dynamic import DynamicClient

from tests.fakes import kube_dicts as d
from tests.fakes import kube_pods as pods
from tests.fakes import kube_resources as r
from tests.fakes.kube_resources import find_by_kind, find_kind
from tests.fakes.kube_store import CONTROLLER, Store, now

RequestRecord = collections.namedtuple(
    "RequestRecord", "method path query content_type"
)

FAULTS = {
    500: ("InternalError", "Internal error occurred: injected fault"),
    503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
    429: (
        "TooManyRequests",
        "the server has received too many requests and has asked us to try again later",
    ),
}
PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
)


class PlainText(str):
    """A response body sent as ``text/plain`` (the pod log subresource)."""


class FakeKubeServer:
    """The fake API server; ``start()`` it, or use it as a context manager."""

    def __init__(self, version="1.29.0"):
        self.version = version
        self.url = None
        self.requests = []
        self._store = Store()
        self._faults = []
        self._lock = threading.Lock()
        self._httpd = None
        self._thread = None
        # Bumped by reset(): a slow request that a reset outlives is dropped,
        # so a test's timed-out write never lands in the next test's state.
        self._epoch = 0

    # --- lifecycle ---------------------------------------------------------------

    def start(self):
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.fake = self
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-kube-api",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self):
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)
            self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def reset(self):
        """Drop all objects (but namespace ``default``), faults and the request log."""
        with self._lock:
            self._epoch += 1
        self._store.reset()
        self.clear_faults()
        self.reset_requests()

    # --- state inspection --------------------------------------------------------

    def get_object(self, api_version, kind, name, namespace=None):
        """A deep copy of the stored object, or None."""
        rtype = _known_kind(api_version, kind)
        try:
            return self._store.get(rtype, namespace if rtype.namespaced else None, name)
        except d.KubeStatusError:
            return None

    def list_objects(
        self, api_version=None, kind=None, namespace=None, label_selector=None
    ):
        """Deep copies of every stored object matching the filters."""
        return self._store.find(api_version, kind, namespace, label_selector)

    def reset_requests(self):
        with self._lock:
            self.requests.clear()

    # --- controller hooks --------------------------------------------------------

    def mark_ready(self, kind, name, namespace, ready=None):
        """Play the Deployment/StatefulSet controller: ``ready`` (or all) are up."""

        def mutate(obj):
            wanted = obj["spec"].get("replicas", 1)
            count = wanted if ready is None else ready
            available = count >= wanted
            obj["status"] = {
                "observedGeneration": obj["metadata"]["generation"],
                "replicas": wanted,
                "updatedReplicas": count,
                "readyReplicas": count,
                "availableReplicas": count,
                "currentReplicas": count,
                "conditions": [
                    _condition(
                        "Available",
                        available,
                        "MinimumReplicasAvailable"
                        if available
                        else "MinimumReplicasUnavailable",
                    ),
                    _condition("Progressing", True, "NewReplicaSetAvailable"),
                ],
            }

        return self._store.controller_update(kind, name, namespace, mutate)

    def set_ingress_address(self, name, namespace, ip="203.0.113.10", hostname=None):
        """Play the ingress controller: publish the load balancer address."""
        entry = {k: v for k, v in (("ip", ip), ("hostname", hostname)) if v}

        def mutate(obj):
            obj["status"] = {"loadBalancer": {"ingress": [entry]}}

        return self._store.controller_update("Ingress", name, namespace, mutate)

    def finish_job(self, name, namespace, succeeded=True):
        """Play the Job controller: the job completes (or fails for good).

        Like a real cluster, only a successful job gets ``completionTime``.
        """

        def mutate(obj):
            stamp = now()
            status = {
                "startTime": obj.get("status", {}).get("startTime", stamp),
                "active": 0,
            }
            if succeeded:
                status.update(
                    succeeded=obj["spec"].get("completions", 1),
                    completionTime=stamp,
                    conditions=[
                        _condition("SuccessCriteriaMet", True, "CompletionsReached"),
                        _condition("Complete", True, "CompletionsReached"),
                    ],
                )
            else:
                status.update(
                    failed=1,
                    conditions=[
                        _condition("FailureTarget", True, "BackoffLimitExceeded"),
                        _condition(
                            "Failed",
                            True,
                            "BackoffLimitExceeded",
                            "Job has reached the specified backoff limit",
                        ),
                    ],
                )
            obj["status"] = status

        return self._store.controller_update("Job", name, namespace, mutate)

    # --- pods, events and logs: the kubelet's and the controllers' part ----------

    def add_pod(
        self,
        name,
        namespace,
        containers=("app",),
        init_containers=(),
        labels=None,
        owner=None,
        running=True,
        restart_policy="Always",
        image="example.org/app:1",
    ):
        """Create a Pod with container statuses, as a controller and the kubelet would.

        ``owner`` is ``(kind, name)`` of an existing object in ``namespace``.
        ``running=True``: init containers completed, containers running and
        ready; ``running=False``: the first init container (or every
        container) runs, the others wait.  Returns the stored pod.
        """
        template = {
            "metadata": {"labels": dict(labels or {})},
            "spec": {
                "restartPolicy": restart_policy,
                "containers": [{"name": c, "image": image} for c in containers],
            },
        }
        if init_containers:
            template["spec"]["initContainers"] = [
                {"name": c, "image": image} for c in init_containers
            ]
        owner_obj = None
        if owner is not None:
            owner_obj = self.get_object(
                _known_kind_name(owner[0]).api_version, owner[0], owner[1], namespace
            )
            if owner_obj is None:
                raise KeyError(f"{owner[0]} {namespace}/{owner[1]} does not exist")
        return self._create_pod(
            pods.pod_body(name, namespace, template, owner_obj), running
        )

    def start_pods(self, kind, name, namespace, replicas=None, running=None):
        """Play a workload controller: create the pods of a Deployment,
        StatefulSet or Job from its pod template; returns their names.

        The pods carry the template's labels (so Mint Cloud's app label) and
        an owner reference (a Deployment's pods a ReplicaSet's, named
        ``<deployment>-<hash>``; a Job's pods get the ``job-name`` labels).
        A workload gets ``spec.replicas`` pods (or ``replicas``), up and
        ready; a Job one pod at its first step (``running`` overrides).
        Nothing replaces, scales or deletes pods later.
        """
        rtype = _known_kind_name(kind)
        obj = self.get_object(rtype.api_version, kind, name, namespace)
        if obj is None:
            raise KeyError(f"{kind} {namespace}/{name} does not exist")
        template = obj["spec"]["template"]
        if replicas is None:
            replicas = 1 if kind == "Job" else obj["spec"].get("replicas", 1)
        running = (kind != "Job") if running is None else running
        names = []
        for index in range(replicas):
            pod = pods.pod_name(kind, name, index, template)
            self._create_pod(pods.pod_body(pod, namespace, template, obj), running)
            names.append(pod)
        return names

    def _create_pod(self, body, running):
        name, namespace = body["metadata"]["name"], body["metadata"]["namespace"]
        self._store.create(find_by_kind("v1", "Pod"), namespace, body, CONTROLLER)
        init_statuses, main_statuses = pods.initial_statuses(body["spec"], running)

        def mutate(pod):
            if init_statuses:
                pod["status"]["initContainerStatuses"] = init_statuses
            pod["status"]["containerStatuses"] = main_statuses

        return self._store.update_pod(name, namespace, mutate)

    def set_container_state(
        self,
        pod,
        namespace,
        container,
        state,
        reason=None,
        message=None,
        exit_code=None,
        ready=None,
    ):
        """Play the kubelet: a container (or init container) is now ``state``.

        ``state`` is ``running`` (a new log run starts when it was not
        running), ``waiting`` (``reason``, e.g. ``ImagePullBackOff``) or
        ``terminated`` (``exit_code``, ``reason`` defaults to Completed or
        Error).  ``ready`` defaults to running for containers, False for init
        containers.  The pod's phase and conditions follow.
        """

        def mutate(obj):
            entry = _container_entry(obj, container)
            init = container in pods.container_names(obj)[1]
            entry["state"] = pods.container_state(state, reason, message, exit_code)
            entry["started"] = state == "running"
            entry["ready"] = (
                (state == "running" and not init) if ready is None else ready
            )

        return self._store.update_pod(pod, namespace, mutate)

    def crash_container(
        self,
        pod,
        namespace,
        container=None,
        reason="Error",
        exit_code=1,
        message=None,
        back_off=True,
    ):
        """Play the kubelet: the container's run ends (``OOMKilled`` with 137,
        ``Error`` ...) and it is restarted: ``restartCount`` grows and
        ``lastState.terminated`` holds the reason.

        ``back_off=True``: it waits in ``CrashLoopBackOff`` and its current
        logs are those of the crashed run (as ``kubectl logs`` shows them);
        ``back_off=False``: a new run starts at once and the crashed run is
        what ``previous=true`` reads.  A container waiting in back-off is
        first started again (a new run), then crashed.
        """
        container = container or _only_container(self, pod, namespace)
        current = self._container(pod, namespace, container)
        if "waiting" in current["state"] and current.get("lastState"):
            self.set_container_state(pod, namespace, container, "running")

        def mutate(obj):
            entry = _container_entry(obj, container)
            started = (entry["state"].get("running") or {}).get("startedAt")
            entry["lastState"] = pods.container_state(
                "terminated", reason, message, exit_code, started=started
            )
            entry["restartCount"] = entry.get("restartCount", 0) + 1
            if back_off:
                entry["state"] = pods.container_state(
                    "waiting",
                    "CrashLoopBackOff",
                    f"back-off 10s restarting failed container={container} "
                    f"pod={pod}_{namespace}({obj['metadata']['uid']})",
                )
                entry.update(ready=False, started=False)
            else:
                entry["state"] = pods.container_state("running")
                entry.update(ready=True, started=True)

        return self._store.update_pod(pod, namespace, mutate)

    def _container(self, pod, namespace, container):
        obj = self.get_object("v1", "Pod", pod, namespace)
        if obj is None:
            raise KeyError(f"Pod {namespace}/{pod} does not exist")
        return _container_entry(obj, container)

    def add_log(self, pod, namespace, lines, container=None, at=None):
        """Append log ``lines`` (a list, or a text: one line a line) to the
        current run of ``container`` (the only container when None), stamped
        ``at`` (an aware datetime, default now)."""
        if isinstance(lines, str):
            lines = lines.splitlines()
        self._store.add_log(pod, namespace, container, lines, at or pods.utcnow())

    def add_event(
        self,
        namespace,
        kind,
        name,
        reason,
        message,
        type="Normal",  # noqa: A002 - the Event's field
        count=1,
        first_seen=None,
        last_seen=None,
        component="kubelet",
        series=False,
        field_path=None,
    ):
        """Record a core ``v1`` Event about ``kind``/``name`` in ``namespace``.

        The object need not exist (a ReplicaSet never does here); when it
        does, its uid is referenced.  ``first_seen``/``last_seen`` are aware
        datetimes (default now); ``series=True`` writes the ``eventTime`` and
        ``series`` form instead of ``count``/``lastTimestamp``.  Returns the
        stored Event.
        """
        rtype = find_kind(kind)
        api_version = rtype.api_version if rtype else _EXTRA_KINDS.get(kind, "v1")
        existing = (
            self.get_object(api_version, kind, name, namespace) if rtype else None
        )
        involved = {
            "apiVersion": api_version,
            "kind": kind,
            "name": name,
            "namespace": namespace,
            "uid": existing["metadata"]["uid"] if existing else None,
        }
        body = pods.event_body(
            namespace,
            involved,
            reason,
            message,
            type,
            count,
            first_seen,
            last_seen,
            component,
            series,
            field_path,
        )
        return self._store.create(find_kind("Event"), namespace, body, component)

    # --- fault injection ---------------------------------------------------------

    def inject_fault(self, fault, times=1, method=None, path_contains=None, delay=2.0):
        """The next ``times`` requests matching ``method``/``path_contains`` fail.

        ``fault`` is 500, 503, 429 (with ``Retry-After: 1``), ``"slow"`` (sleep
        ``delay`` seconds, then answer normally) or ``"reset"`` (close the TCP
        connection with a RST and no response).  ``path_contains`` is matched
        against the request path without the query string.
        """
        if fault not in FAULTS and fault not in ("slow", "reset"):
            raise ValueError(f"unknown fault {fault!r}")
        with self._lock:
            self._faults.append(
                {
                    "fault": fault,
                    "times": times,
                    "method": method and method.upper(),
                    "path_contains": path_contains,
                    "delay": delay,
                }
            )

    def clear_faults(self):
        with self._lock:
            self._faults.clear()

    def _arrive(self, method, path, query, content_type):
        """Log a request and return the fault it gets (or None)."""
        with self._lock:
            self.requests.append(RequestRecord(method, path, query, content_type))
            for fault in self._faults:
                if (
                    fault["times"] > 0
                    and fault["method"] in (None, method)
                    and (
                        fault["path_contains"] is None or fault["path_contains"] in path
                    )
                ):
                    fault["times"] -= 1
                    return fault
        return None

    # --- request handling --------------------------------------------------------

    def handle(self, method, path, query, content_type, body):
        """Answer one API request: returns (status code, JSON body)."""
        found = _route(path, self)
        if found[0] == "doc":
            if method != "GET":
                raise _method_not_allowed()
            return 200, found[1]
        _, rtype, namespace, name, subresource = found
        if subresource == "log":
            if method != "GET":
                raise _method_not_allowed()
            return 200, PlainText(self._store.read_log(namespace, name, query))
        dry_run = _dry_run(query)
        manager = query.get("fieldManager")
        store = self._store
        if name is None:
            if subresource or (
                rtype.namespaced and namespace is None and method in ("POST", "DELETE")
            ):
                raise _method_not_allowed()
            if method == "GET":
                if query.get("watch") in ("true", "1"):
                    raise _method_not_allowed(
                        "watch is not supported by the fake API server"
                    )
                return 200, store.list(
                    rtype,
                    namespace,
                    query.get("labelSelector"),
                    query.get("fieldSelector"),
                    _limit(query),
                    query.get("continue"),
                )
            if method == "POST":
                return 201, store.create(rtype, namespace, body, manager, dry_run)
            if method == "DELETE" and "deletecollection" in rtype.verbs:
                return 200, store.delete_collection(
                    rtype,
                    namespace,
                    query.get("labelSelector"),
                    query.get("fieldSelector"),
                    dry_run,
                )
            raise _method_not_allowed()
        if method == "GET":
            return 200, store.get(rtype, namespace, name)
        if method == "PUT":
            return 200, store.replace(
                rtype, namespace, name, body, manager, dry_run, subresource
            )
        if method == "PATCH":
            return self._patch(
                rtype, namespace, name, body, content_type, query, subresource
            )
        if method == "DELETE" and not subresource:
            preconditions = (
                (body or {}).get("preconditions") if isinstance(body, dict) else None
            )
            return 200, store.delete(rtype, namespace, name, dry_run, preconditions)
        raise _method_not_allowed()

    def _patch(self, rtype, namespace, name, body, content_type, query, subresource):
        if content_type not in PATCH_TYPES:
            raise d.KubeStatusError(
                415,
                "UnsupportedMediaType",
                "the body of the request was in an unknown format - accepted media "
                f"types include: {', '.join(PATCH_TYPES)}",
            )
        manager, dry_run = query.get("fieldManager"), _dry_run(query)
        if content_type == "application/apply-patch+yaml":
            force = query.get("force", "false").lower() == "true"
            obj, created = self._store.apply(
                rtype, namespace, name, body, manager, force, dry_run, subresource
            )
            return (201 if created else 200), obj
        return 200, self._store.patch(
            rtype, namespace, name, body, content_type, manager, dry_run, subresource
        )


# --- routing --------------------------------------------------------------------


def _route(path, server):
    """("doc", body) for discovery or ("resource", type, namespace, name, sub)."""
    parts = [unquote(p) for p in path.split("/") if p]
    if parts == ["version"]:
        return "doc", r.version_info(server.version)
    if parts[:1] == ["api"] and len(parts) <= 2:
        return "doc", (
            r.api_versions(server.url.split("//", 1)[1])
            if len(parts) == 1
            else _with_pod_log(_or_404(r.api_resource_list("", parts[1])))
        )
    if parts[:1] == ["apis"] and len(parts) <= 3:
        if len(parts) == 1:
            return "doc", r.api_group_list()
        if len(parts) == 2:
            return "doc", _or_404(r.api_group(parts[1]))
        return "doc", _or_404(r.api_resource_list(parts[1], parts[2]))
    if parts[:1] == ["api"]:
        group, version, rest = "", parts[1], parts[2:]
    elif parts[:1] == ["apis"]:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        raise _unknown_path()
    namespace = None
    if (
        rest[0] == "namespaces"
        and len(rest) >= 3
        and not (len(rest) == 3 and rest[2] == "status")
    ):
        namespace, rest = rest[1], rest[2:]
    rtype = r.find_by_plural(group, version, rest[0])
    if rtype is None or len(rest) > 3 or (namespace and not rtype.namespaced):
        raise _unknown_path()
    name = rest[1] if len(rest) > 1 else None
    subresource = rest[2] if len(rest) > 2 else None
    known_subresource = (subresource == "status" and rtype.has_status) or (
        subresource == "log" and rtype.kind == "Pod"
    )
    if (subresource and not known_subresource) or (
        name and rtype.namespaced and namespace is None
    ):
        raise _unknown_path()
    return "resource", rtype, namespace, name, subresource


def _with_pod_log(doc):
    """Discovery lists ``pods/log`` (get only), as a real API server does."""
    for index, entry in enumerate(doc["resources"]):
        if entry["name"] == "pods":
            doc["resources"].insert(
                index + 1,
                {
                    "name": "pods/log",
                    "singularName": "",
                    "namespaced": True,
                    "kind": "Pod",
                    "verbs": ["get"],
                },
            )
            break
    return doc


def _or_404(doc):
    if doc is None:
        raise _unknown_path()
    return doc


def _unknown_path():
    return d.KubeStatusError(
        404, "NotFound", "the server could not find the requested resource", {}
    )


def _method_not_allowed(
    message="the server does not allow this method on the requested resource",
):
    return d.KubeStatusError(405, "MethodNotAllowed", message, {})


def _dry_run(query):
    value = query.get("dryRun")
    if value not in (None, "", "All"):
        raise d.bad_request(
            f'dryRun: Unsupported value: "{value}": supported values: "All"'
        )
    return value == "All"


def _limit(query):
    try:
        return int(query.get("limit") or 0)
    except ValueError:
        raise d.bad_request("limit must be an integer") from None


def _condition(kind, status, reason, message=""):
    stamp = now()
    return {
        "type": kind,
        "status": "True" if status else "False",
        "reason": reason,
        "message": message,
        "lastTransitionTime": stamp,
        "lastUpdateTime": stamp,
    }


#: apiVersion of kinds an Event may name that the fake does not serve.
_EXTRA_KINDS = {"ReplicaSet": "apps/v1", "Node": "v1"}


def _known_kind_name(kind):
    rtype = find_kind(kind)
    if rtype is None:
        raise ValueError(f"the fake API server does not serve {kind}")
    return rtype


def _container_entry(pod, container):
    statuses, index = pods.find_container_status(pod, container)
    if statuses is None:
        raise KeyError(f"Pod {pod['metadata']['name']} has no container {container}")
    return statuses[index]


def _only_container(server, pod, namespace):
    obj = server.get_object("v1", "Pod", pod, namespace)
    if obj is None:
        raise KeyError(f"Pod {namespace}/{pod} does not exist")
    mains = pods.container_names(obj)[0]
    if len(mains) != 1:
        raise ValueError(f"Pod {pod} has several containers: name one")
    return mains[0]


def _known_kind(api_version, kind):
    rtype = find_by_kind(api_version, kind)
    if rtype is None:
        raise ValueError(f"the fake API server does not serve {api_version}/{kind}")
    return rtype


# --- HTTP layer -----------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        """Keep the test output quiet."""

    def setup(self):
        super().setup()
        # Headers and body go out in two writes: without this, Nagle's algorithm
        # and the client's delayed ACK add ~40 ms to every keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self):
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _serve(self):
        fake = self.server.fake
        url = urlsplit(self.path)
        query = {
            k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()
        }
        content_type = (self.headers.get("Content-Type") or "").split(";")[
            0
        ].strip().lower() or None
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fault = fake._arrive(self.command, url.path, query, content_type)
        if fault and fault["fault"] == "reset":
            return self._reset()
        if fault and fault["fault"] == "slow":
            epoch = fake._epoch
            time.sleep(fault["delay"])
            if fake._epoch != epoch:  # the test that sent it is over
                return self._reset()
        headers = {}
        try:
            if fault and fault["fault"] in FAULTS:
                reason, message = FAULTS[fault["fault"]]
                headers = {"Retry-After": "1"} if fault["fault"] == 429 else {}
                details = {"retryAfterSeconds": 1} if fault["fault"] == 429 else {}
                raise d.KubeStatusError(
                    fault["fault"], reason, message, details, headers
                )
            code, body = fake.handle(
                self.command,
                url.path,
                query,
                content_type,
                _parse_body(raw, content_type),
            )
        except d.KubeStatusError as error:
            code, body, headers = error.code, error.status(), error.headers
        except Exception as error:  # noqa: BLE001 - a bug in the fake must reach the client as a 500
            code, body = (
                500,
                d.KubeStatusError(
                    500, "InternalError", f"fake API server error: {error!r}"
                ).status(),
            )
        self._send(code, body, headers)

    def _send(self, code, body, headers):
        if isinstance(body, PlainText):
            payload, content_type = body.encode(), "text/plain"
        else:
            payload, content_type = json.dumps(body).encode(), "application/json"
        try:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            self.close_connection = True  # the client gave up (e.g. after its timeout)

    def _reset(self):
        """Abort the connection with a TCP RST and no response at all."""
        self.connection.setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
        )
        self.connection.close()
        self.close_connection = True


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parse_body(raw, content_type):
    if not raw:
        return None
    try:
        if content_type and "yaml" in content_type:
            # Clients send apply patches as JSON (a subset of YAML); parse
            # that with the JSON parser, as fast as a real server's.
            try:
                return json.loads(raw)
            except ValueError:
                return yaml.load(raw, Loader=_YAML_LOADER)
        return json.loads(raw)
    except (ValueError, yaml.YAMLError) as error:
        kind = "YAML" if "yaml" in (content_type or "") else "JSON"
        message = f"the request body is not valid {kind}: {error.__class__.__name__}"
        raise d.bad_request(message) from None


# --- pytest fixtures ------------------------------------------------------------

_session_server = None


def _shared_server(config):
    """One server per test session, stopped when the session ends."""
    global _session_server
    if _session_server is None:
        _session_server = FakeKubeServer().start()

        def stop():
            global _session_server
            _session_server.stop()
            _session_server = None

        config.add_cleanup(stop)
    return _session_server


@pytest.fixture
def kube_api(request):
    """A started :class:`FakeKubeServer`, reset to an empty cluster for this test.

    The server is shared by the whole session (started on first use) so the
    fixture costs only a reset.  It does not depend on a private session
    fixture, because ``tests/conftest.py`` re-exports only the public names.
    """
    server = _shared_server(request.config)
    server.reset()
    yield server
    server.clear_faults()


@pytest.fixture
def kube_client(kube_api):
    """A real ``kubernetes.client.ApiClient`` for ``kube_api`` (no auth, no proxy).

    It has its own Configuration; the global default one is left alone.
    """
    configuration = client.Configuration()
    configuration.host = kube_api.url
    configuration.proxy = None
    api_client = client.ApiClient(configuration=configuration)
    yield api_client
    api_client.close()


@pytest.fixture
def dyn(kube_client, tmp_path):
    """A DynamicClient for ``kube_api`` with its own discovery cache file."""
    return DynamicClient(kube_client, cache_file=str(tmp_path / "discovery.json"))


@pytest.fixture
def core(kube_client):
    """``CoreV1Api`` for ``kube_api``."""
    return client.CoreV1Api(kube_client)


@pytest.fixture
def apps(kube_client):
    """``AppsV1Api`` for ``kube_api``."""
    return client.AppsV1Api(kube_client)


__all__ = [
    "FakeKubeServer",
    "RequestRecord",
    "apps",
    "core",
    "dyn",
    "kube_api",
    "kube_client",
]
