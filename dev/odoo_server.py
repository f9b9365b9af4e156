"""The served Odoo of ``make run`` (and of the served check in ``make test``).

* :func:`write_config` derives the Odoo configuration from the operators'
  example ``deploy/odoo.conf`` (``server_wide_modules`` with queue_job, the
  ``[queue_job]`` channels), overriding only what a single-machine run must:
  database connection and name, ports, paths, ``workers = 0`` (one threaded
  process serves HTTP and the bus websocket without a proxy; queue_job's
  runner runs in a thread of it) and the capacity of ``root.kubernetes``.
* :func:`prepare_database` creates the database with the addons and demo
  data on the first run; later runs update only the addons whose code
  changed (a hash per addon kept in the database) and never re-create it.
* :func:`server_command` is the command that serves it.
"""

import configparser
import hashlib
import json
import os
import re
import subprocess
import time

from dev.bootstrap import ROOT, fail, odoo_root, say

ADDONS = [
    "kubernetes_manifest",
    "kubernetes_app",
    "website_sale_kubernetes",
    "portal_kubernetes",
    "mailgun_domain",
]
#: Installed with the addons in a demo database: Odoo's demo payment
#: provider (test mode, no money moves) makes the webshop purchase work.
DEMO_MODULES = ["payment_demo"]
EXAMPLE_CONFIG = os.path.join(ROOT, "deploy", "odoo.conf")
#: ir.config_parameter holding {addon: hash of its code} of the last update.
HASH_PARAM = "mintcloud.dev.addon_hashes"
#: Files whose change needs no module update: tests, front-end assets, docs.
_UNHASHED_DIRS = {"tests", "static", "readme", "__pycache__"}

ODOO_MAIN = "import sys, odoo.cli; sys.argv[0] = 'odoo'; odoo.cli.main()"


def addons_path(python):
    root = odoo_root(python)
    paths = [os.path.join(root, "addons"), os.path.join(root, "odoo", "addons")]
    return [p for p in paths if os.path.isdir(p)] + [ROOT]


def pg_settings(env=None):
    """The PostgreSQL connection from PGHOST/PGPORT/PGUSER/PGPASSWORD."""
    env = os.environ if env is None else env
    return {
        "host": env.get("PGHOST") or "127.0.0.1",
        "port": int(env.get("PGPORT") or 5432),
        "user": env.get("PGUSER") or None,
        "password": env.get("PGPASSWORD") or None,
    }


def channels(spec, kubernetes_jobs):
    """``spec`` with ``root.kubernetes`` at ``kubernetes_jobs`` (root at least that)."""
    capacities = {}
    for part in spec.split(","):
        name, _, capacity = part.strip().partition(":")
        if name:
            capacities[name] = int(capacity or 1)
    capacities["root.kubernetes"] = kubernetes_jobs
    capacities["root"] = max(capacities.get("root", 1), kubernetes_jobs)
    ordered = ["root", "root.kubernetes"] + sorted(
        name for name in capacities if name not in ("root", "root.kubernetes")
    )
    return ",".join(f"{name}:{capacities[name]}" for name in ordered)


def write_config(
    path,
    *,
    database,
    http_port,
    gevent_port,
    pg,
    data_dir,
    addons,
    kubernetes_jobs=2,
):
    """Write the run's configuration, derived from ``deploy/odoo.conf``."""
    parser = configparser.ConfigParser(interpolation=None)
    if not parser.read(EXAMPLE_CONFIG):
        fail(f"{EXAMPLE_CONFIG} is missing.")
    options = parser["options"]
    if "queue_job" not in options.get("server_wide_modules", "").split(","):
        fail(
            f"{EXAMPLE_CONFIG}: server_wide_modules must list queue_job, "
            "or no job would ever run."
        )
    options["addons_path"] = ",".join(addons)
    options["data_dir"] = data_dir
    options["db_host"] = pg["host"]
    options["db_port"] = str(pg["port"])
    options["db_user"] = pg["user"] or "False"
    options["db_password"] = pg["password"] or "False"
    options["db_name"] = database
    options["dbfilter"] = f"^{re.escape(database)}$"
    options["http_port"] = str(http_port)
    options["gevent_port"] = str(gevent_port)
    options["proxy_mode"] = "False"
    options["workers"] = "0"
    queue_job = parser["queue_job"] if parser.has_section("queue_job") else None
    if queue_job is None:
        parser.add_section("queue_job")
        queue_job = parser["queue_job"]
    queue_job["channels"] = channels(
        queue_job.get("channels", "root:1"), kubernetes_jobs
    )
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        fh.write(
            f"; Written by dev/odoo_server.py from {os.path.relpath(EXAMPLE_CONFIG, ROOT)}"
            " for this run; edit that file, not this one.\n"
        )
        parser.write(fh)
    return path


def server_command(python, config, *args):
    return [python, "-c", ODOO_MAIN, "-c", config, *args]


def addon_hashes():
    """{addon: SHA-256 of the files an update reads} (not tests, assets, docs)."""
    hashes = {}
    for addon in ADDONS:
        digest = hashlib.sha256()
        base = os.path.join(ROOT, addon)
        for folder, dirs, files in os.walk(base):
            dirs[:] = sorted(d for d in dirs if d not in _UNHASHED_DIRS)
            for name in sorted(files):
                if name.endswith((".pyc", ".md", ".rst")):
                    continue
                path = os.path.join(folder, name)
                digest.update(os.path.relpath(path, base).encode() + b"\0")
                with open(path, "rb") as fh:
                    digest.update(fh.read())
        hashes[addon] = digest.hexdigest()
    return hashes


def _connect(pg, database):
    # Odoo's psycopg2: imported here, as the launcher starts under a Python
    # that may have none, and re-runs itself under Odoo's.
    import psycopg2  # noqa: PLC0415

    kwargs = {"host": pg["host"], "port": pg["port"], "dbname": database}
    if pg["user"]:
        kwargs["user"] = pg["user"]
    if pg["password"]:
        kwargs["password"] = pg["password"]
    return psycopg2.connect(connect_timeout=10, **kwargs)


def database_state(pg, database):
    """None when ``database`` does not exist, else ``(module states, hashes)``."""
    with _connect(pg, "postgres") as conn, conn.cursor() as cr:
        cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
        exists = cr.fetchone()
    conn.close()
    if not exists:
        return None
    conn = _connect(pg, database)
    try:
        with conn.cursor() as cr:
            cr.execute("SELECT to_regclass('ir_module_module')")
            if cr.fetchone()[0] is None:
                return {}, {}
            cr.execute(
                "SELECT name, state FROM ir_module_module WHERE name = ANY(%s)",
                [ADDONS + DEMO_MODULES],
            )
            modules = dict(cr.fetchall())
            cr.execute(
                "SELECT value FROM ir_config_parameter WHERE key = %s", [HASH_PARAM]
            )
            row = cr.fetchone()
    finally:
        conn.close()
    return modules, json.loads(row[0]) if row else {}


def _store_hashes(pg, database, hashes):
    conn = _connect(pg, database)
    try:
        with conn, conn.cursor() as cr:
            cr.execute(
                "INSERT INTO ir_config_parameter (key, value, create_date, write_date)"
                " VALUES (%s, %s, now() at time zone 'UTC', now() at time zone 'UTC')"
                " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value,"
                " write_date = EXCLUDED.write_date",
                [HASH_PARAM, json.dumps(hashes, sort_keys=True)],
            )
    finally:
        conn.close()


def plan(state, hashes):
    """``(install, update)``: modules to install and addons to update."""
    if state is None:
        return ADDONS + DEMO_MODULES, []
    modules, stored = state
    install = [m for m in ADDONS + DEMO_MODULES if modules.get(m) != "installed"]
    update = [m for m in ADDONS if m not in install and stored.get(m) != hashes[m]]
    return install, update


def prepare_database(python, config, database, pg, log_path):
    """Create or update ``database`` so that it serves the current addons."""
    hashes = addon_hashes()
    state = database_state(pg, database)
    install, update = plan(state, hashes)
    if not install and not update:
        say(
            f"database {database!r} is up to date (addons unchanged since the last run)"
        )
        return
    args = ["--stop-after-init"]
    if state is None:
        say(
            f"creating database {database!r}: the five addons with demo data "
            "(first run only, one to three minutes)"
        )
    if install:
        if state is not None:
            say(f"installing into {database!r}: {', '.join(install)}")
        args += ["--init", ",".join(install)]
    if update:
        say(
            f"updating in {database!r} the addons whose code changed: {', '.join(update)}"
        )
        args += ["--update", ",".join(update)]
    started = time.time()
    cmd = server_command(python, config, *args, "--logfile", log_path)
    say(f"Odoo's log of this step: {_shown(log_path)}")
    code = subprocess.call(cmd, cwd=ROOT)
    if code:
        fail(
            f"Odoo could not install/update the addons in {database!r} "
            f"(exit {code}); the end of {log_path}:\n" + _tail(log_path)
        )
    modules, _stored = database_state(pg, database)
    missing = [m for m in ADDONS + DEMO_MODULES if modules.get(m) != "installed"]
    if missing:
        fail(f"Odoo did not install {', '.join(missing)} in {database!r}; see its log.")
    _store_hashes(pg, database, hashes)
    say(f"database {database!r} ready ({time.time() - started:.0f} s)")


def drop_database(pg, database):
    """Drop ``database`` if it exists (connections to it are closed first)."""
    from psycopg2 import sql  # noqa: PLC0415 (see _connect)

    conn = _connect(pg, "postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cr:
            cr.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                [database],
            )
            cr.execute(
                sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(database))
            )
    finally:
        conn.close()


def _shown(path):
    """``path`` relative to the project when it lies inside it."""
    relative = os.path.relpath(path, ROOT)
    return path if relative.startswith("..") else relative


def _tail(path, lines=30):
    try:
        with open(path, errors="replace") as fh:
            return "".join(fh.readlines()[-lines:])
    except OSError:
        return "(no log)"
