"""Shared pieces of the benchmarks: paths, per-app variables, the fake API, timing.

Every benchmark talks to a fresh :class:`tests.fakes.kube_api.FakeKubeServer`
on 127.0.0.1, so numbers measure the client side plus the (pure Python) fake
server, never a real cluster.
"""

import contextlib
import math
import pathlib
import statistics
import sys
import threading
import time

from mintcloud.variables import Variables, generate_secret, load_vars_yml
from tests.fakes.kube_api import FakeKubeServer, _Handler

ROOT = pathlib.Path(__file__).resolve().parent.parent
MANIFEST_DIR = ROOT / "kubernetes_manifest" / "static" / "manifests"
DEMO_VARS = ROOT / "tests" / "data" / "demo_vars.yml"
RESULTS_DIR = ROOT / "bench" / "results"

#: The demo manifests in deploy order (reset-job.yaml is not deployed normally).
DEPLOY_ORDER = (
    "secret.yaml",
    "filestore-pvc.yaml",
    "postgres.yaml",
    "odoo.yaml",
    "ingress.yaml",
)
SECRET_NAMES = ("admin_password", "db_password")
DOMAIN = "mint-cloud.ch"


def app_names(count, prefix="bench"):
    """``bench-0001``, ``bench-0002`` …: ``count`` distinct valid app names."""
    return [f"{prefix}-{i:04d}" for i in range(1, count + 1)]


def demo_manifests():
    """``[(file name, template text)]`` of the deploy set, in deploy order."""
    return [
        (name, (MANIFEST_DIR / name).read_text(encoding="utf-8"))
        for name in DEPLOY_ORDER
    ]


def base_variables():
    """The demo variables of ``tests/data/demo_vars.yml``, passwords marked secret."""
    text = DEMO_VARS.read_text(encoding="utf-8")
    return load_vars_yml(text, secrets=SECRET_NAMES)


def app_variables(base, name):
    """``base`` with this app's name, namespace, host name and fresh passwords."""
    variables = Variables(base)
    variables["app_name"] = name
    variables["namespace"] = name
    variables["hostname"] = f"{name}.{DOMAIN}"
    for secret in SECRET_NAMES:
        variables.set(secret, generate_secret(), secret=True)
    return variables


class ServerClock:
    """Wall-clock time the fake spends serving requests (its share of a run).

    Counted per request from the parsed request line to the sent response:
    body parsing (YAML for server-side apply), the store and the JSON answer.
    The fake runs in this process, so it competes with the client for the
    GIL; subtracting this time from a run gives the client-side cost.
    """

    def __init__(self):
        self.seconds = 0.0
        self._lock = threading.Lock()

    def add(self, seconds):
        with self._lock:
            self.seconds += seconds

    def reset(self):
        with self._lock:
            self.seconds = 0.0


class _TimedHandler(_Handler):
    """The fake's request handler, timing each request on the server's clock."""

    def _serve(self):
        start = time.perf_counter()
        try:
            super()._serve()
        finally:
            self.server.fake.bench_clock.add(time.perf_counter() - start)


def _quiet_handle_error(original):
    """socketserver's handle_error without the traceback for a peer's reset.

    When a client closes a keep-alive connection whose last response it did
    not read (urllib3 then discards the connection), the kernel resets it
    and the handler thread waiting for the next request sees ECONNRESET;
    that is not a failure of the benchmark and would only clutter its output.
    """

    def handle_error(request, client_address):
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        original(request, client_address)

    return handle_error


@contextlib.contextmanager
def fake_kube():
    """A started, empty FakeKubeServer on 127.0.0.1 (stopped on exit).

    The server gets a :class:`ServerClock` as its ``bench_clock`` attribute.
    """
    server = FakeKubeServer()
    server.bench_clock = ServerClock()
    server.start()
    httpd = server._httpd  # no request has come in yet: swap in the timed handler
    httpd.RequestHandlerClass = _TimedHandler
    httpd.handle_error = _quiet_handle_error(httpd.handle_error)
    try:
        yield server
    finally:
        server.stop()


class RemoteFake:
    """A FakeKubeServer in a process of its own, as a real API server is.

    The benchmark's client threads then do not compete with the server for
    this process's GIL, and the two cores of the machine both work.  The
    server times its requests (:class:`ServerClock`) and counts them; both
    are read over a pipe.
    """

    def __init__(self):
        import multiprocessing  # noqa: PLC0415 - only the benchmarks need it

        context = multiprocessing.get_context("fork")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_serve_remote, args=(child,), daemon=True
        )
        self._process.start()
        self.url = self._conn.recv()

    def _ask(self, command):
        self._conn.send(command)
        return self._conn.recv()

    def reset(self):
        """Forget the requests and the server time so far."""
        return self._ask("reset")

    def stats(self):
        """``(request_counts(...), server seconds)`` since the last reset."""
        return self._ask("stats")

    def stop(self):
        if self._process.is_alive():
            self._ask("stop")
            self._process.join(10)


def _serve_remote(conn):
    with fake_kube() as fake:
        conn.send(fake.url)
        while True:
            command = conn.recv()
            if command == "reset":
                fake.reset_requests()
                fake.bench_clock.reset()
                conn.send(None)
            elif command == "stats":
                conn.send((request_counts(fake.requests), fake.bench_clock.seconds))
            else:
                conn.send(None)
                return


@contextlib.contextmanager
def remote_fake_kube():
    """A :class:`RemoteFake` (stopped on exit)."""
    fake = RemoteFake()
    try:
        yield fake
    finally:
        fake.stop()


def classify_request(record):
    """``"discovery"``, ``"list"``, ``"get"`` or the lower-case method of a request.

    ``record`` is a :class:`tests.fakes.kube_api.RequestRecord`.  A LIST is a
    GET on a collection (``/apis/apps/v1/deployments``,
    ``/api/v1/namespaces/x/secrets``); discovery is everything above the
    resource level (``/version``, ``/api``, ``/apis/apps/v1``).
    """
    parts = [p for p in record.path.split("/") if p]
    if parts[:1] == ["api"]:
        rest = parts[2:]
    elif parts[:1] == ["apis"]:
        rest = parts[3:]
    else:
        return "discovery"
    if not rest:
        return "discovery"
    if rest[0] == "namespaces" and len(rest) >= 3:
        rest = rest[2:]
    if record.method == "GET":
        return "list" if len(rest) == 1 else "get"
    return record.method.lower()


APPLY_PATCH = "application/apply-patch+yaml"


def request_counts(records):
    """``{category: count}`` of :func:`classify_request`, plus ``"total"``.

    ``"server_side_apply"`` counts the PATCH requests that are server-side
    applies (content type ``application/apply-patch+yaml``).
    """
    counts = {"total": len(records), "server_side_apply": 0}
    for record in records:
        kind = classify_request(record)
        counts[kind] = counts.get(kind, 0) + 1
        if record.method == "PATCH" and record.content_type == APPLY_PATCH:
            counts["server_side_apply"] += 1
    return counts


def percentile(values, fraction):
    """The ``fraction`` (0..1) percentile of ``values``, nearest-rank method."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = min(max(math.ceil(fraction * len(ordered)), 1), len(ordered))
    return ordered[rank - 1]


def summary_us(samples_ns):
    """``{"mean_us", "median_us", "p95_us", "max_us"}`` of nanosecond samples."""
    to_us = [s / 1000 for s in samples_ns]
    return {
        "mean_us": statistics.fmean(to_us),
        "median_us": statistics.median(to_us),
        "p95_us": percentile(to_us, 0.95),
        "max_us": max(to_us),
    }


def rate(count, seconds):
    """``count / seconds``, 0 when no time passed."""
    return count / seconds if seconds > 0 else 0.0
