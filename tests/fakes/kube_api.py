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

from tests.fakes import kube_dicts as d
from tests.fakes import kube_resources as r
from tests.fakes.kube_resources import find_by_kind
from tests.fakes.kube_store import Store, now

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
            else _or_404(r.api_resource_list("", parts[1]))
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
    if (subresource and (subresource != "status" or not rtype.has_status)) or (
        name and rtype.namespaced and namespace is None
    ):
        raise _unknown_path()
    return "resource", rtype, namespace, name, subresource


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
        payload = json.dumps(body).encode()
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
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


def _parse_body(raw, content_type):
    if not raw:
        return None
    try:
        if content_type and "yaml" in content_type:
            return yaml.safe_load(raw)
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


__all__ = ["FakeKubeServer", "RequestRecord", "kube_api", "kube_client"]
