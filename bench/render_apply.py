"""Benchmark 1: render the demo deploy set with the core and apply it with apply_app.

Each app ``bench-c<N>-0001`` … gets its own namespace and its own variables
(the demo values with app name, host name, namespace and passwords changed).
``concurrency`` threads deploy the apps, each thread with its own
``ApiClient``, as queue_job workers would; the fake API server runs in a
process of its own (:class:`bench.common.RemoteFake`), as a real API server
does, so client and server do not share a GIL.

Two phases, both timed:

* **deploy**: every app is new, so it applies from an empty inventory, as
  the addon does for an app's first deployment: the namespace's GET and
  POST, then one server-side apply per object;
* **re-apply**: every app again, unchanged, from the inventory the deploy
  returned: the namespace's GET and one server-side apply per object, no
  read before the apply and no LIST for prune (objects + 1 requests).

Rendering and applying are timed per app and summed over the threads.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from bench.common import (
    app_names,
    app_variables,
    base_variables,
    demo_manifests,
    rate,
    remote_fake_kube,
)
from mintcloud.apply import apply_app
from mintcloud.kube import api_client
from mintcloud.render import render_manifests

#: The concurrency settings ``make bench`` runs.
CONCURRENCY = (1, 4, 8)


class _Sums:
    """Seconds summed over threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self.render = 0.0
        self.apply = 0.0

    def add(self, render, apply):
        with self._lock:
            self.render += render
            self.apply += apply


def _phase(names, concurrency, work):
    """Run ``work(name)`` for every app on ``concurrency`` threads: (seconds, results)."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(work, names))
    return time.perf_counter() - started, results


def run(apps, concurrency=1):
    """Deploy ``apps`` new apps, then re-apply them unchanged; the result dict."""
    manifests = demo_manifests()
    base = base_variables()
    names = app_names(apps, prefix=f"bench-c{concurrency}")
    variables = {name: app_variables(base, name) for name in names}
    local, clients = threading.local(), []
    deploy_sums, reapply_sums = _Sums(), _Sums()
    inventories = {}

    with remote_fake_kube() as fake:

        def client():
            if not hasattr(local, "client"):
                local.client = api_client(host=fake.url)
                clients.append(local.client)
            return local.client

        def apply(name, sums, inventory):
            started = time.perf_counter()
            docs = render_manifests(manifests, variables[name])
            rendered = time.perf_counter()
            result = apply_app(client(), name, name, docs, inventory=inventory)
            sums.add(rendered - started, time.perf_counter() - rendered)
            if not result.ok:
                raise RuntimeError(f"apply of {name} failed: {result.errors}")
            return len(docs), result

        def deploy(name):
            objects, result = apply(name, deploy_sums, [])
            inventories[name] = result.inventory()
            return objects, result.counts()

        def reapply(name):
            objects, result = apply(name, reapply_sums, inventories[name])
            return objects, result.counts()

        fake.reset()
        total, deployed = _phase(names, concurrency, deploy)
        requests, server_s = fake.stats()
        fake.reset()
        reapply_total, reapplied = _phase(names, concurrency, reapply)
        reapply_requests, reapply_server_s = fake.stats()
        for each in clients:
            each.close()

    objects = sum(count for count, _ in deployed)
    actions, reapply_actions = {}, {}
    for _, counts in deployed:
        for action, count in counts.items():
            actions[action] = actions.get(action, 0) + count
    for _, counts in reapplied:
        for action, count in counts.items():
            reapply_actions[action] = reapply_actions.get(action, 0) + count
    if set(reapply_actions) != {"unchanged"}:
        raise RuntimeError(
            f"an unchanged re-apply changed something: {reapply_actions}"
        )
    return {
        "apps": apps,
        "concurrency": concurrency,
        "objects": objects,
        "objects_per_app": objects / apps if apps else 0,
        "total_s": total,
        "render_s": deploy_sums.render,
        "apply_s": deploy_sums.apply,
        "fake_server_s": server_s,
        "apps_per_s": rate(apps, total),
        "objects_per_s": rate(objects, total),
        "render_apps_per_s": rate(apps, deploy_sums.render),
        "apply_apps_per_s": rate(apps, deploy_sums.apply),
        "actions": actions,
        "requests": requests,
        "requests_per_app": requests["total"] / apps if apps else 0,
        "reapply": {
            "total_s": reapply_total,
            "apps_per_s": rate(apps, reapply_total),
            "fake_server_s": reapply_server_s,
            "actions": reapply_actions,
            "requests": reapply_requests,
            "requests_per_app": reapply_requests["total"] / apps if apps else 0,
        },
    }


def report(result):
    """The printed lines of benchmark 1 (one block per concurrency setting)."""
    r = result
    again = r["reapply"]
    if r["concurrency"] > 1:
        # Summed over the workers: a rate from these times would not be the
        # throughput (the first line is).
        summed = f"summed over {r['concurrency']} workers"
        times = (
            f"  render: {r['render_s']:.2f} s, apply: {r['apply_s']:.2f} s "
            f"({summed}; fake server {r['fake_server_s']:.2f} s)   "
        )
    else:
        times = (
            f"  render: {r['render_s']:.2f} s ({r['render_apps_per_s']:.0f} apps/s)   "
            f"apply: {r['apply_s']:.2f} s ({r['apply_apps_per_s']:.1f} apps/s, "
            f"of which fake server {r['fake_server_s']:.2f} s)   "
        )
    return [
        f"render+apply, core: {r['apps']} apps, {r['objects']} objects "
        f"({r['objects_per_app']:.0f}/app) in {r['total_s']:.2f} s -> "
        f"{r['apps_per_s']:.1f} apps/s, {r['objects_per_s']:.0f} objects/s "
        f"(concurrency {r['concurrency']})",
        times + f"requests: {r['requests']['total']} ({r['requests_per_app']:.1f}/app, "
        f"{r['requests']['server_side_apply']} server-side apply)",
        f"  re-apply unchanged: {r['apps']} apps in {again['total_s']:.2f} s -> "
        f"{again['apps_per_s']:.1f} apps/s   "
        f"requests: {again['requests']['total']} ({again['requests_per_app']:.1f}/app, "
        f"{again['requests']['server_side_apply']} server-side apply)",
    ]
