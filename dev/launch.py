"""``make run``, ``make test``, ``make deps``, ``make bench``: get what is missing, then do it.

    python3 dev/launch.py run [--port 8069] [--db mintcloud] [--kubernetes-jobs 2]
    python3 dev/launch.py test | deps | bench [ARGS...]

Each step prints one line (``==> ...``):

1. an interpreter that imports Odoo 17 (the given one, else ``.venv``,
   created the first time from ``ODOO_SOURCE`` or the 17.0 branch on GitHub);
   the launcher re-runs itself under it;
2. the project's Python packages (skipped while the requirements are
   unchanged);
3. Odoo's system packages: wkhtmltopdf (run, test), Chromium (test);
4. PostgreSQL at PGHOST/PGPORT (default 127.0.0.1:5432); when nothing
   answers at a local address, a private server is started there from a PyPI
   wheel with its data in ``.run/postgres``, and stopped at the end;
5. ``run``: the database (created once with demo data, updated when addon
   code changed) and Odoo with queue_job's runner; ``test``:
   ``tests/run_suites.py``; ``bench``: ``python -m bench``.

``MINTCLOUD_SKIP_ODOO=1`` keeps ``test`` to the plain suite with the given
interpreter (no Odoo, no PostgreSQL).
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from dev import bootstrap, odoo_server, postgres, sysdeps  # noqa: E402
from dev.bootstrap import ROOT, RUN_DIR, say  # noqa: E402

REEXEC_MARK = "MINTCLOUD_LAUNCHER_PYTHON"
STARTED_MARK = "MINTCLOUD_LAUNCHER_STARTED"
#: When ``make`` started the launcher (kept across the re-run under .venv).
STARTED = float(os.environ.get(STARTED_MARK) or time.time())


def _odoo_python():
    """Re-run this launcher under an interpreter that imports Odoo 17."""
    python = bootstrap.ensure_python(sys.executable)
    # A venv's python is a symlink to the base interpreter: compare the
    # paths themselves, not what they resolve to.
    if os.path.abspath(python) == os.path.abspath(sys.executable):
        say(f"Odoo 17 is importable by {sys.executable}")
        return
    if os.environ.get(REEXEC_MARK):
        bootstrap.fail(f"{python} was to run the launcher, but {sys.executable} does")
    say(f"continuing with {python}")
    os.environ[REEXEC_MARK] = python
    os.environ[STARTED_MARK] = str(STARTED)
    os.execv(python, [python, os.path.abspath(__file__), *sys.argv[1:]])


def _postgres():
    """PostgreSQL settings; starts a private server when nothing answers locally."""
    pg = odoo_server.pg_settings()
    server = postgres.ensure(
        pg["host"], pg["port"], os.path.join(RUN_DIR, "postgres"), log=say
    )
    if server is None:
        say(f"PostgreSQL answers on {pg['host']}:{pg['port']}")
        return pg, None
    os.environ.update(server.env())
    return odoo_server.pg_settings(), server


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url, proc, timeout=600.0):
    """Poll ``url`` until it answers 200; False when ``proc`` ended or time ran out."""
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.25)
    return False


def cmd_run(args):
    _odoo_python()
    if bootstrap.install_deps():
        return 1
    sysdeps.ensure_wkhtmltopdf()
    pg, server = _postgres()
    try:
        python = sys.executable
        config = odoo_server.write_config(
            os.path.join(RUN_DIR, f"odoo-{args.db}.conf"),
            database=args.db,
            http_port=args.port,
            gevent_port=_free_port(),
            pg=pg,
            data_dir=os.path.join(RUN_DIR, "data"),
            addons=odoo_server.addons_path(python),
            kubernetes_jobs=args.kubernetes_jobs,
        )
        odoo_server.prepare_database(
            python,
            config,
            args.db,
            pg,
            os.path.join(RUN_DIR, f"odoo-{args.db}-setup.log"),
        )
        say(
            f"starting Odoo on http://localhost:{args.port} (database {args.db!r}; "
            f"queue jobs: root.kubernetes runs {args.kubernetes_jobs} at a time; "
            "Ctrl-C stops it)"
        )
        proc = subprocess.Popen(odoo_server.server_command(python, config), cwd=ROOT)

        def announce():
            if wait_healthy(f"http://127.0.0.1:{args.port}/web/health", proc):
                say(
                    f"ready in {time.time() - STARTED:.1f} s: open "
                    f"http://localhost:{args.port}/web and log in as admin / admin; "
                    f"the shop is http://localhost:{args.port}/shop"
                )

        threading.Thread(target=announce, daemon=True).start()
        try:
            return proc.wait()
        except KeyboardInterrupt:
            proc.send_signal(signal.SIGINT)
            return proc.wait()
    finally:
        if server is not None:
            say("stopping the private PostgreSQL server")
            server.stop()


def cmd_test(args):
    env_skip = os.environ.get("MINTCLOUD_SKIP_ODOO")
    if not env_skip:
        _odoo_python()
    if bootstrap.install_deps(with_odoo=None if not env_skip else False):
        return 1
    server = None
    if not env_skip:
        sysdeps.ensure_chromium()
        sysdeps.ensure_wkhtmltopdf()
        _pg, server = _postgres()
    try:
        return subprocess.call(
            [sys.executable, os.path.join(ROOT, "tests", "run_suites.py"), *args.rest],
            cwd=ROOT,
        )
    finally:
        if server is not None:
            say("stopping the private PostgreSQL server")
            server.stop()


def cmd_deps(args):
    _odoo_python()
    return bootstrap.install_deps(force=True)


def cmd_bench(args):
    _odoo_python()
    if bootstrap.install_deps():
        return 1
    constraints = os.path.join(ROOT, ".odoo-constraints.txt")
    pip = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    pip += ["-r", os.path.join(ROOT, "bench", "requirements.txt")]
    if os.path.exists(constraints):
        pip += ["-c", constraints]
    if subprocess.call(pip, cwd=ROOT):
        return 1
    _pg, server = _postgres()
    try:
        return subprocess.call([sys.executable, "-m", "bench", *args.rest], cwd=ROOT)
    finally:
        if server is not None:
            server.stop()


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def stop_on_signals():
    """Ctrl-C and a plain ``kill`` (SIGTERM) both stop Odoo and then the
    private PostgreSQL server, also when ``make run`` was started in the
    background, where the shell makes it ignore SIGINT."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _interrupt)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="dev/launch.py", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="serve Odoo with the addons and demo data")
    run.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8069))
    run.add_argument("--db", default=os.environ.get("DB") or "mintcloud")
    run.add_argument(
        "--kubernetes-jobs",
        type=int,
        default=int(os.environ.get("KUBERNETES_JOBS") or 2),
        help="capacity of the queue_job channel root.kubernetes (default 2)",
    )
    run.set_defaults(func=cmd_run)
    for name, func in (("test", cmd_test), ("bench", cmd_bench)):
        command = sub.add_parser(name)
        command.add_argument("rest", nargs=argparse.REMAINDER)
        command.set_defaults(func=func)
    sub.add_parser("deps").set_defaults(func=cmd_deps)
    args = parser.parse_args(argv)
    if args.func is cmd_run:
        stop_on_signals()
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
