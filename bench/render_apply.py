"""Benchmark 1: render the demo deploy set with the core and apply it with apply_app.

Each app ``bench-0001`` … gets its own namespace and its own variables (the
demo values with app name, host name, namespace and passwords changed).  All
apps share one ``ApiClient`` (one connection pool), as a worker would.
Rendering and applying are timed separately; the apply time includes the
namespace check/creation, one GET and one server-side-apply PATCH per object
and the prune LISTs that :func:`mintcloud.apply.apply_app` does.
"""

import time

from bench.common import (
    Stopwatch,
    app_names,
    app_variables,
    base_variables,
    demo_manifests,
    fake_kube,
    rate,
    request_counts,
)
from mintcloud.apply import apply_app
from mintcloud.kube import api_client
from mintcloud.render import render_manifests


def run(apps):
    """Render and apply ``apps`` apps; returns the result dict."""
    manifests = demo_manifests()
    base = base_variables()
    names = app_names(apps)
    variables = {name: app_variables(base, name) for name in names}
    render_watch, apply_watch = Stopwatch(), Stopwatch()
    objects, actions = 0, {}
    with fake_kube() as fake:
        client = api_client(host=fake.url)
        fake.bench_clock.reset()
        started = time.perf_counter()
        for name in names:
            with render_watch:
                docs = render_manifests(manifests, variables[name])
            with apply_watch:
                result = apply_app(client, name, name, docs)
            if not result.ok:
                raise RuntimeError(f"apply of {name} failed: {result.errors}")
            objects += len(docs)
            for action, count in result.counts().items():
                actions[action] = actions.get(action, 0) + count
        total = time.perf_counter() - started
        client.close()
        server_s = fake.bench_clock.seconds
        requests = request_counts(fake.requests)
    return {
        "apps": apps,
        "objects": objects,
        "objects_per_app": objects / apps if apps else 0,
        "total_s": total,
        "render_s": render_watch.seconds,
        "apply_s": apply_watch.seconds,
        "fake_server_s": server_s,
        "apps_per_s": rate(apps, total),
        "objects_per_s": rate(objects, total),
        "render_apps_per_s": rate(apps, render_watch.seconds),
        "apply_apps_per_s": rate(apps, apply_watch.seconds),
        "actions": actions,
        "requests": requests,
        "requests_per_app": requests["total"] / apps if apps else 0,
    }


def report(result):
    """The printed lines of benchmark 1."""
    r = result
    return [
        f"render+apply, core: {r['apps']} apps, {r['objects']} objects "
        f"({r['objects_per_app']:.0f}/app) in {r['total_s']:.2f} s -> "
        f"{r['apps_per_s']:.1f} apps/s, {r['objects_per_s']:.0f} objects/s",
        f"  render: {r['render_s']:.2f} s ({r['render_apps_per_s']:.0f} apps/s)   "
        f"apply: {r['apply_s']:.2f} s ({r['apply_apps_per_s']:.1f} apps/s, "
        f"of which fake server {r['fake_server_s']:.2f} s)   "
        f"requests: {r['requests']['total']} ({r['requests_per_app']:.1f}/app, "
        f"{r['requests']['server_side_apply']} server-side apply)",
    ]
