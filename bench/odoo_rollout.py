"""Benchmark ``odoo_rollout``: orders and a fleet rollout through a served Odoo.

Everything runs as in production, only against the local fake API server:
Odoo is started the way ``make run`` and the served check start it
(``dev/odoo_server.py``: configuration from ``deploy/odoo.conf``, a fresh
database with the five addons and demo data, queue_job's real runner with
``root.kubernetes`` at ``--kubernetes-jobs``), the demo cluster is connected
to a :class:`tests.fakes.kube_api.FakeKubeServer` in this process, and
everything is driven over JSON-RPC, as the web client does.

1. **Order confirmation to both apps applied.** ``APPS / 2`` quotations of
   the demo hosting product (one app name each) are confirmed one after
   another (``sale.order.action_confirm``); each confirmation creates the
   production and the integration app, whose first deployments the runner
   picks up.  Timed per order: from the confirmation request to both apps'
   Ingresses on the API server (the last object of the demo set), watched
   in this process; reported as the median, and the median without the fake
   server's own time in that window.
2. **Rollout.** The demo Odoo manifest gets a new annotation (its file
   changes, the operator fetches it): every app is outdated.  One rollout
   (integration apps first, batches of ``BATCH`` apps, ``CONCURRENT`` at
   once) brings all of them to the new revision.  Timed: from *Start* to
   the rollout done; reported as apps/s.
3. **SQL queries per job**, from Odoo's request log: each job runs in a
   request to ``/queue_job/runjob``, whose log line ends with its query
   count (queue_job's own bookkeeping included).  Reported as the median
   per deployment job (first deployments and rollout deployments) and per
   rollout step.

Needs Odoo 17 importable and PostgreSQL (``PGHOST``...); about three
minutes for the database, then a few minutes of work.  The database is
dropped afterwards.  Without Odoo the benchmark reports ``skipped``.
"""

import importlib.util
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from bench.common import ROOT, fake_kube, rate
from tests.fakes.file_server import FakeFileServer

APPS = 200
BATCH = 50
CONCURRENT = 8
KUBERNETES_JOBS = 4
TARGET_S = 1.0
#: Seconds one order's apps may take; the rollout may take this per app.
ORDER_BOUND = 120
ROLLOUT_BOUND_PER_APP = 5
RUNJOB = re.compile(
    r'"GET /queue_job/runjob\?db=[^&"]+&job_uuid=([0-9a-f-]+) HTTP/1\.[01]" '
    r"(\d+) - (\d+) ([\d.]+) ([\d.]+)"
)
ANNOTATION = "    mintcloud.io/hostname: {{ hostname | to_json }}\n"


def odoo_importable():
    return importlib.util.find_spec("odoo") is not None


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _kubeconfig(url):
    return (
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: fake\n  cluster:\n    server: {url}\n"
        "users:\n- name: anonymous\n  user: {}\n"
        "contexts:\n- name: fake\n  context:\n    cluster: fake\n    user: anonymous\n"
        "current-context: fake\n"
    )


class _Served:
    """A served Odoo with a fresh demo database; ``stop()`` drops it."""

    def __init__(self, kubernetes_jobs):
        from dev import odoo_server  # noqa: PLC0415 - only with Odoo around
        from dev.launch import wait_healthy  # noqa: PLC0415

        self.odoo_server = odoo_server
        self.python = sys.executable
        self.dir = tempfile.mkdtemp(prefix="bench_odoo_rollout_")
        self.database = f"bench_odoo_rollout_{os.getpid()}"
        self.pg = odoo_server.pg_settings()
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = os.path.join(self.dir, "odoo.log")
        config = odoo_server.write_config(
            os.path.join(self.dir, "odoo.conf"),
            database=self.database,
            http_port=port,
            gevent_port=_free_port(),
            pg=self.pg,
            data_dir=os.path.join(self.dir, "data"),
            addons=odoo_server.addons_path(self.python),
            kubernetes_jobs=kubernetes_jobs,
        )
        self.proc = None
        started = time.perf_counter()
        try:
            odoo_server.prepare_database(
                self.python,
                config,
                self.database,
                self.pg,
                os.path.join(self.dir, "setup.log"),
            )
        except SystemExit as exc:
            raise RuntimeError(f"creating the database failed ({exc})") from None
        self.setup_s = time.perf_counter() - started
        self.proc = subprocess.Popen(
            odoo_server.server_command(self.python, config, "--logfile", self.log_path),
            cwd=odoo_server.ROOT,
        )
        if not wait_healthy(f"{self.url}/web/health", self.proc, timeout=300):
            self.stop()
            raise RuntimeError(f"Odoo did not start; see {self.log_path}")

    def admin(self):
        from tests.served.client import OdooSession  # noqa: PLC0415

        session = OdooSession(self.url)
        session.login(self.database, "admin", "admin")
        return session

    def log(self):
        with open(self.log_path, errors="replace") as fh:
            return fh.read()

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.odoo_server.drop_database(self.pg, self.database)


def _wait(probe, timeout, what, interval=0.005):
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if probe():
            return time.perf_counter()
        time.sleep(interval)
    raise RuntimeError(f"{what}: not reached within {timeout} s")


def _applied(fake, names, namespace):
    """Both apps' Ingresses are on the API server."""
    return all(
        fake.get_object("networking.k8s.io/v1", "Ingress", name, namespace)
        for name in names
    )


def _orders(admin, fake, count):
    """Confirm ``count`` orders one after another; per-order latencies."""
    product_tmpl = admin.xmlid("website_sale_kubernetes.product_template_odoo_hosting")
    (product,) = admin.call(
        "product.product",
        "search_read",
        [("product_tmpl_id", "=", product_tmpl)],
        fields=["id"],
    )
    partner = admin.call(
        "res.partner",
        "create",
        {"name": "Bench Customer", "email": "bench@example.com"},
    )
    order_ids = [
        admin.call(
            "sale.order",
            "create",
            {
                "partner_id": partner,
                "order_line": [
                    (
                        0,
                        0,
                        {
                            "product_id": product["id"],
                            "kubernetes_app_name": f"bench{i:04d}",
                        },
                    )
                ],
            },
        )
        for i in range(1, count + 1)
    ]
    latencies, without_fake = [], []
    for i, order_id in enumerate(order_ids, start=1):
        name = f"bench{i:04d}"
        fake_before = fake.bench_clock.seconds
        started = time.perf_counter()
        admin.click("sale.order", "action_confirm", [order_id])
        done = _wait(
            lambda n=name: _applied(fake, [n, f"{n}-int"], n),
            ORDER_BOUND,
            f"the apps of order {i} applied",
        )
        latency = done - started
        latencies.append(latency)
        without_fake.append(latency - (fake.bench_clock.seconds - fake_before))
    return latencies, without_fake


def _change_manifest(admin):
    """The demo Odoo manifest's file gets a new annotation; Odoo fetches it."""
    path = ROOT / "kubernetes_manifest" / "static" / "manifests" / "odoo.yaml"
    template = path.read_text(encoding="utf-8")
    files = FakeFileServer().start()
    try:
        url = files.set(
            "/odoo.yaml",
            template.replace(
                ANNOTATION, ANNOTATION + '    mintcloud.io/bench: "rollout"\n', 1
            ),
        )
        manifest_id = admin.xmlid("kubernetes_manifest.manifest_demo_odoo")
        admin.call("kubernetes.manifest", "write", [manifest_id], {"url": url})
    finally:
        files.stop()
    return manifest_id


def _rollout(admin, fake, manifest_id):
    rollout_id = admin.call(
        "kubernetes.rollout",
        "create",
        {
            "manifest_id": manifest_id,
            "batch_size": BATCH,
            "max_concurrent": CONCURRENT,
            "max_failures": 0,
        },
    )
    (rollout,) = admin.call("kubernetes.rollout", "read", [rollout_id], ["app_ids"])
    apps = len(rollout["app_ids"])
    fake_before = fake.bench_clock.seconds
    started = time.perf_counter()
    admin.click("kubernetes.rollout", "action_start", [rollout_id])
    state = {}

    def finished():
        (found,) = admin.call(
            "kubernetes.rollout",
            "read",
            [rollout_id],
            ["state", "done_count", "failed_count", "halt_reason"],
        )
        state.update(found)
        return found["state"] in ("done", "halted", "aborted")

    done = _wait(finished, apps * ROLLOUT_BOUND_PER_APP, "the rollout done", 0.2)
    if state["state"] != "done" or state["failed_count"]:
        raise RuntimeError(f"the rollout did not succeed: {state}")
    return {
        "apps": apps,
        "deployed": state["done_count"],
        "seconds": done - started,
        "fake_server_s": fake.bench_clock.seconds - fake_before,
        "rollout_id": rollout_id,
    }


def _queries(admin, log):
    """Median SQL queries per job kind, from the runjob lines of the log."""
    counts = {m.group(1): int(m.group(3)) for m in RUNJOB.finditer(log)}
    jobs = admin.call(
        "queue.job",
        "search_read",
        [("uuid", "in", list(counts))],
        fields=["uuid", "model_name", "method_name"],
    )
    triggers = {
        d["job_uuid"]: d["trigger"]
        for d in admin.call(
            "kubernetes.deployment",
            "search_read",
            [("job_uuid", "in", list(counts))],
            fields=["job_uuid", "trigger"],
        )
    }
    by_kind = {}
    for job in jobs:
        kind = f"{job['model_name']}.{job['method_name']}"
        if job["uuid"] in triggers:
            kind += f":{triggers[job['uuid']]}"
        by_kind.setdefault(kind, []).append(counts[job["uuid"]])
    return {
        kind: {"jobs": len(values), "median": statistics.median(values)}
        for kind, values in sorted(by_kind.items())
    }


def run(apps=APPS, kubernetes_jobs=KUBERNETES_JOBS):
    """Serve, confirm orders, roll out, read the log; the result dict."""
    if not odoo_importable():
        return {"skipped": "odoo is not importable (install Odoo 17 to run it)"}
    with fake_kube() as fake:
        served = _Served(kubernetes_jobs)
        try:
            admin = served.admin()
            cluster_id = admin.xmlid("kubernetes_app.cluster_demo")
            admin.call(
                "kubernetes.cluster",
                "write",
                [cluster_id],
                {"connection": "kubeconfig", "kubeconfig": _kubeconfig(fake.url)},
            )
            # The demo apps' first (dry-run) deployments are done first.
            _wait(
                lambda: (
                    not admin.call(
                        "kubernetes.deployment",
                        "search_count",
                        [("state", "in", ("queued", "running"))],
                    )
                ),
                ORDER_BOUND,
                "the demo deployments done",
                0.2,
            )
            started = time.perf_counter()
            latencies, without_fake = _orders(admin, fake, apps // 2)
            orders_s = time.perf_counter() - started
            manifest_id = _change_manifest(admin)
            rollout = _rollout(admin, fake, manifest_id)
            queries = _queries(admin, served.log())
        finally:
            served.stop()
    return {
        "apps": apps,
        "kubernetes_jobs": kubernetes_jobs,
        "setup_s": served.setup_s,
        "orders": len(latencies),
        "orders_s": orders_s,
        "order_median_s": statistics.median(latencies),
        "order_p95_s": sorted(latencies)[int(0.95 * (len(latencies) - 1))],
        "order_median_without_fake_s": statistics.median(without_fake),
        "target_s": TARGET_S,
        "rollout": {**rollout, "apps_per_s": rate(rollout["apps"], rollout["seconds"])},
        "queries": queries,
    }


def _median(queries, kind):
    found = queries.get(kind)
    return f"{found['median']:.0f} ({found['jobs']} jobs)" if found else "-"


def report(result):
    """The printed lines of the benchmark."""
    if "skipped" in result:
        return [f"Odoo rollout: skipped: {result['skipped']}"]
    r, roll = result, result["rollout"]
    verdict = "met" if r["order_median_without_fake_s"] < r["target_s"] else "MISSED"
    without_fake = roll["seconds"] - roll["fake_server_s"]
    q = r["queries"]
    return [
        f"Odoo orders: {r['orders']} confirmed one after another, "
        f"{2 * r['orders']} apps -> confirmation to both apps applied: median "
        f"{r['order_median_s']:.2f} s (p95 {r['order_p95_s']:.2f} s), "
        f"{r['order_median_without_fake_s']:.2f} s without the fake server "
        f"(target < {r['target_s']:.0f} s: {verdict}); root.kubernetes:"
        f"{r['kubernetes_jobs']}; database created in {r['setup_s']:.0f} s",
        f"Odoo rollout: {roll['deployed']} of {roll['apps']} apps in "
        f"{roll['seconds']:.1f} s -> {roll['apps_per_s']:.2f} apps/s "
        f"({rate(roll['apps'], without_fake):.2f} apps/s without the fake "
        f"server's {roll['fake_server_s']:.1f} s); batches of {BATCH}, "
        f"{CONCURRENT} at once",
        "SQL queries per job (median, queue_job's bookkeeping included): "
        f"first deployment {_median(q, 'kubernetes.deployment._job_run:create')}, "
        f"rollout deployment {_median(q, 'kubernetes.deployment._job_run:rollout')}, "
        f"rollout step {_median(q, 'kubernetes.rollout._job_step')}, "
        f"app step {_median(q, 'kubernetes.rollout.line._job_advance')}",
    ]
