"""Benchmark ``odoo_names``: the server-side app-name check with 10,000 apps.

Times ``sale.order.line._kubernetes_app_name_problems`` -- the function the
checkout's live check (``/shop/app_name/check``), the step submit and the
payment guard call -- in a real Odoo 17 database:

1. a throwaway database ``bench_odoo_names_<pid>`` is created and
   ``website_sale_kubernetes`` is installed into it without demo data
   (``odoo -i``, in a subprocess; about a minute);
2. 10,000 apps are inserted with one SQL statement each for the production
   and the integration apps (the taken names of :func:`names_check.dataset`:
   8,000 production apps and the ``-int`` app of 2,000 of them, on one
   dry-run cluster), plus 100 open cart lines holding other names;
3. the 1,000 candidates of :func:`names_check.dataset` (new, taken, taken
   through ``-int``, invalid) are checked once as a warm-up, then timed;
4. the database is dropped.

Needs ``import odoo`` and PostgreSQL (``PGHOST``, default 127.0.0.1;
``PGPORT``/``PGUSER``/``PGPASSWORD`` when set).  Without Odoo the benchmark
reports ``skipped``.  Target: < 20 ms per check.
"""

import importlib.util
import os
import subprocess
import sys
import time

from bench import names_check
from bench.common import ROOT

MODULE = "website_sale_kubernetes"
TARGET_MS = 20.0
OPEN_LINES = 100
DOMAIN = "mint-cloud.ch"


def odoo_importable():
    return importlib.util.find_spec("odoo") is not None


def _pg_args():
    env = os.environ
    args = ["--db_host", env.get("PGHOST", "127.0.0.1")]
    for variable, option in (
        ("PGPORT", "--db_port"),
        ("PGUSER", "--db_user"),
        ("PGPASSWORD", "--db_password"),
    ):
        if env.get(variable):
            args += [option, env[variable]]
    return args


def _addons_path():
    import odoo  # noqa: PLC0415, TID251 - this benchmark measures the addon

    root = os.path.dirname(os.path.dirname(odoo.__file__))
    paths = [os.path.join(root, "addons"), os.path.join(root, "odoo", "addons")]
    return ",".join([p for p in paths if os.path.isdir(p)] + [str(ROOT)])


def _odoo_args(database):
    return ["-d", database, *_pg_args(), "--addons-path", _addons_path()]


def _install(database):
    """Create ``database`` and install the module without demo data."""
    cmd = [
        sys.executable,
        "-c",
        "import sys, odoo.cli; sys.argv[0] = 'odoo'; odoo.cli.main()",
        *_odoo_args(database),
        "-i",
        MODULE,
        "--without-demo",
        "all",
        "--stop-after-init",
        "--no-http",
        "--max-cron-threads",
        "0",
        "--log-level",
        "warn",
    ]
    pythonpath = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, PYTHONPATH=pythonpath)
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-20:])
        raise RuntimeError(f"installing {MODULE} failed:\n{tail}")


def _drop(database):
    import odoo  # noqa: PLC0415, TID251

    odoo.modules.registry.Registry.delete(database)
    odoo.sql_db.close_db(database)
    host = _pg_args()[1]
    subprocess.run(["dropdb", "--if-exists", "-h", host, database], capture_output=True)


def _populate(env, taken):
    """Insert the apps (SQL) and a few open cart lines (ORM); the cluster."""
    cluster = env["kubernetes.cluster"].create(
        {"name": "Bench cluster", "domain": DOMAIN, "connection": "dry_run"}
    )
    prod = sorted(name for name in taken if not name.endswith("-int"))
    int_of = sorted(name[: -len("-int")] for name in taken if name.endswith("-int"))
    cr = env.cr
    cr.execute(
        """
        INSERT INTO kubernetes_app
            (name, hostname, environment, namespace, cluster_id, state, active,
             create_uid, write_uid, create_date, write_date)
        SELECT n, n || '.' || %(domain)s, 'prod', n, %(cluster)s, 'draft', true,
               1, 1, now() at time zone 'UTC', now() at time zone 'UTC'
          FROM unnest(%(names)s::varchar[]) AS n
        """,
        {"domain": DOMAIN, "cluster": cluster.id, "names": prod},
    )
    cr.execute(
        """
        INSERT INTO kubernetes_app
            (name, hostname, environment, namespace, prod_app_id, cluster_id,
             state, active, create_uid, write_uid, create_date, write_date)
        SELECT p.name || '-int', p.name || '-int.' || %(domain)s, 'int', p.name,
               p.id, p.cluster_id, 'draft', true,
               1, 1, now() at time zone 'UTC', now() at time zone 'UTC'
          FROM kubernetes_app p
         WHERE p.name = ANY(%(names)s::varchar[]) AND p.environment = 'prod'
        """,
        {"domain": DOMAIN, "names": int_of},
    )
    cr.execute("ANALYZE kubernetes_app")
    _open_carts(env, cluster, taken)
    return cluster


def _open_carts(env, cluster, taken):
    """``OPEN_LINES`` draft orders whose hosting line holds a name."""
    Product = env["product.template"].with_context(tracking_disable=True)
    template = Product.create(
        {
            "name": "Bench hosting",
            "detailed_type": "service",
            "subscribable": True,
            "kubernetes_hosting": True,
            "kubernetes_cluster_id": cluster.id,
        }
    )
    partner = env["res.partner"].create({"name": "Bench customer"})
    names = [f"cart-{i:04d}" for i in range(OPEN_LINES)]
    env["sale.order"].with_context(tracking_disable=True).create(
        [
            {
                "partner_id": partner.id,
                "order_line": [
                    (
                        0,
                        0,
                        {
                            "product_id": template.product_variant_id.id,
                            "kubernetes_app_name": name,
                        },
                    )
                ],
            }
            for name in names
            if name not in taken
        ]
    )


def run(checks=names_check.CANDIDATES):
    """Install, populate, time ``checks`` checks, drop; the result dict."""
    if not odoo_importable():
        return {"skipped": "odoo is not importable (install Odoo 17 to run it)"}
    import odoo  # noqa: PLC0415, TID251
    from odoo import SUPERUSER_ID, api  # noqa: PLC0415, TID251

    database = f"bench_odoo_names_{os.getpid()}"
    taken, candidates = names_check.dataset(candidates=checks)
    started = time.perf_counter()
    _install(database)
    install_s = time.perf_counter() - started
    try:
        odoo.tools.config.parse_config(
            [*_odoo_args(database), "--log-level", "warn", "--no-http"]
        )
        registry = odoo.modules.registry.Registry(database)
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            started = time.perf_counter()
            _populate(env, taken)
            populate_s = time.perf_counter() - started
            apps = env["kubernetes.app"].search_count([])
            Line = env["sale.order.line"]
            own_order = env["sale.order"].search([], limit=1).ids

            def check(name):
                return Line._kubernetes_app_name_problems(
                    name, DOMAIN, exclude_order_ids=own_order
                )

            result = names_check.measure(check, candidates, rounds=1)
            cr.rollback()
    finally:
        _drop(database)
    return {
        "apps": apps,
        "open_lines": OPEN_LINES,
        "candidates": len(candidates),
        "install_s": install_s,
        "populate_s": populate_s,
        "target_ms": TARGET_MS,
        **result,
    }


def report(result):
    """The printed line of the benchmark."""
    if "skipped" in result:
        return [f"app-name check in Odoo: skipped: {result['skipped']}"]
    r = result
    mean_ms, p95_ms = r["mean_us"] / 1000, r["p95_us"] / 1000
    verdict = "met" if p95_ms < r["target_ms"] else "MISSED"
    return [
        f"app-name check in Odoo (sale.order.line._kubernetes_app_name_problems): "
        f"{r['checks']} checks vs {r['apps']} apps + {r['open_lines']} open cart "
        f"lines -> mean {mean_ms:.2f} ms, p95 {p95_ms:.2f} ms per check "
        f"(target < {r['target_ms']:.0f} ms: {verdict}; "
        f"{r['rejected']} of {r['candidates']} rejected; "
        f"install {r['install_s']:.0f} s, 10k apps inserted in {r['populate_s']:.1f} s)",
    ]
