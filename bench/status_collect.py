"""Benchmark 3: collect_status over many apps on one cluster.

The apps are written straight into the fake's object store (no HTTP), each
with its namespace, the Odoo Deployment, the PostgreSQL StatefulSet and the
Ingress of the demo set, labelled as :func:`mintcloud.apply.apply_app`
labels them.  The fake then plays the controllers: workloads become ready
(every tenth app's Odoo stays at 0 ready replicas, so some apps are
degraded) and every Ingress gets an address.  Only ``collect_status`` is
timed, first with a cold discovery cache, then warm.
"""

import json
import statistics
import time
import tracemalloc

from bench.common import (
    app_names,
    app_variables,
    base_variables,
    demo_manifests,
    fake_kube,
    request_counts,
)
from mintcloud.apply import label_documents
from mintcloud.kube import api_client
from mintcloud.render import render_manifests
from mintcloud.status import collect_status
from tests.fakes.kube_resources import find_by_kind

DEFAULT_APPS = 1000
#: The second, large run: one cluster with 10,000 apps.
LARGE_APPS = 10000
WARM_RUNS = 3
STATUS_KINDS = ("Deployment", "StatefulSet", "Ingress")
PLACEHOLDER = "zzbenchappzz"  # app name of the rendered model, replaced per app
CONTROLLER = "bench"


def _model_documents():
    """The labelled status-relevant documents of one app, as JSON text."""
    variables = app_variables(base_variables(), PLACEHOLDER)
    docs = render_manifests(demo_manifests(), variables)
    docs = [doc for doc in docs if doc["kind"] in STATUS_KINDS]
    return json.dumps(label_documents(docs, PLACEHOLDER))


def populate(fake, names):
    """Store every app's namespace, workloads and ingress, then play the controllers."""
    model = _model_documents()
    store = fake._store  # direct writes: seconds instead of minutes over HTTP
    namespace_type = find_by_kind("v1", "Namespace")
    for index, name in enumerate(names):
        store.create(namespace_type, None, {"metadata": {"name": name}}, CONTROLLER)
        for doc in json.loads(model.replace(PLACEHOLDER, name)):
            rtype = find_by_kind(doc["apiVersion"], doc["kind"])
            store.create(rtype, name, doc, CONTROLLER)
            obj_name = doc["metadata"]["name"]
            if doc["kind"] == "Ingress":
                fake.set_ingress_address(obj_name, name)
            else:
                degraded = doc["kind"] == "Deployment" and index % 10 == 9
                fake.mark_ready(doc["kind"], obj_name, name, 0 if degraded else None)


def _timed_collect(fake, trace=False):
    """One collect_status with a new client: (seconds, fake server seconds,
    result, peak bytes the client allocated or None).

    With ``trace`` the client's allocations are traced (tracemalloc); the
    fake's are left out (it keeps every object, as an API server does).
    """
    fake.reset_requests()
    fake.bench_clock.reset()
    client = api_client(host=fake.url)
    peak = None
    try:
        if trace:
            tracemalloc.start()
            tracemalloc.reset_peak()
        started = time.perf_counter()
        result = collect_status(client)
        seconds = time.perf_counter() - started
        if trace:
            _current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        return seconds, fake.bench_clock.seconds, result, peak
    finally:
        client.close()


def run(apps=DEFAULT_APPS, warm_runs=WARM_RUNS):
    """Populate ``apps`` apps and time collect_status; the result dict."""
    names = app_names(apps, prefix="status")
    with fake_kube() as fake:
        started = time.perf_counter()
        populate(fake, names)
        populate_s = time.perf_counter() - started
        cold_s, cold_server_s, status, _ = _timed_collect(fake)
        cold_requests = request_counts(fake.requests)
        warm, warm_server = [], []
        for _ in range(warm_runs):
            seconds, server_s, status, _ = _timed_collect(fake)
            warm.append(seconds)
            warm_server.append(server_s)
        warm_requests = request_counts(fake.requests)  # of the last warm run
        pages = sum(1 for r in fake.requests if "continue" in r.query)
        # One more, traced: the peak of what the client held (tracing slows it).
        _, _, _, peak = _timed_collect(fake, trace=True)
    if len(status) != apps:
        raise RuntimeError(f"collect_status found {len(status)} apps, expected {apps}")
    states = {}
    for app in status.values():
        states[app.state] = states.get(app.state, 0) + 1
    return {
        "apps": apps,
        "objects": apps * len(STATUS_KINDS),
        "populate_s": populate_s,
        "cold_s": cold_s,
        "cold_fake_server_s": cold_server_s,
        "warm_median_s": statistics.median(warm),
        "warm_runs": warm,
        "warm_median_fake_server_s": statistics.median(warm_server),
        "cold_requests": cold_requests,
        "warm_requests": warm_requests,
        "continued_pages": pages,
        "peak_bytes": peak,
        "states": states,
    }


def report(result):
    """The printed lines of benchmark 3."""
    r = result
    cold, warm = r["cold_requests"], r["warm_requests"]
    states = ", ".join(f"{n} {s}" for s, n in sorted(r["states"].items()))
    return [
        f"status collection: {r['apps']} apps ({r['objects']} objects) -> "
        f"cold {r['cold_s']:.2f} s, {cold.get('list', 0)} LIST of "
        f"{cold['total']} requests; warm (median of {len(r['warm_runs'])}) "
        f"{r['warm_median_s']:.2f} s, "
        f"{warm.get('list', 0)} LIST of {warm['total']} requests "
        f"({warm.get('list', 0) - r['continued_pages']} kinds, "
        f"{r['continued_pages']} further pages of 500), "
        f"peak memory {r['peak_bytes'] / 2**20:.1f} MiB",
        f"  of which fake server: cold {r['cold_fake_server_s']:.2f} s, "
        f"warm {r['warm_median_fake_server_s']:.2f} s   states: {states}   "
        f"(populating the fake: {r['populate_s']:.1f} s, not timed)",
    ]
